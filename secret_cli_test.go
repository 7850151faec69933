package main

import (
	"strings"
	"testing"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

// TestSecretInFirstCommand: a password that a RUN's first command takes
// in its own syntax is hidden in every output and fails the CI verdict,
// in both builders' history forms and after build arguments.
func TestSecretInFirstCommand(t *testing.T) {
	t.Setenv("CI", "")
	tests := []struct {
		name    string
		history []string
		want    int
	}{
		{"buildkit chpasswd and legacy mysql", []string{
			`RUN /bin/sh -c echo 'root:S3cretPWchp' | chpasswd # buildkit`,
			`/bin/sh -c mysql -uroot -pS3cretPWmysql -e 'select 1'`}, 1},
		{"curl -u after build arguments", []string{
			`RUN |1 X=y /bin/sh -c curl -u admin:S3cretPWcurl https://x.invalid/ # buildkit`,
			`|1 X=y /bin/sh -c sshpass -p S3cretPWssh ssh h`}, 1},
		{"htpasswd and aws", []string{
			`RUN /bin/sh -c htpasswd -Bbc /etc/pw admin S3cretPWht # buildkit`,
			`/bin/sh -c aws configure set aws_secret_access_key S3cretPWaws`}, 1},
		{"no secret passes", []string{
			`RUN /bin/sh -c echo 'root' | wc -c # buildkit`,
			`/bin/sh -c mysql -uroot -p -e 'select 1'`}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := it.Image{Layers: [][]byte{it.Layer(it.Reg("a", "a")), it.Layer(it.Reg("b", "b"))}}
			for _, h := range tc.history {
				img.History = append(img.History, it.History{CreatedBy: h})
			}
			archive := it.GzipBytes(it.Tar(it.DockerArchive(img)))
			for _, format := range []string{"text", "json"} {
				code, stdout, stderr := layerscope(t, archive, "--ci", "--format", format, "-")
				if code != tc.want {
					t.Errorf("%s: exit %d, want %d\n%s%s", format, code, tc.want, stdout, stderr)
				}
				if strings.Contains(stdout+stderr, "S3cretPW") {
					t.Errorf("%s: a password shows:\n%s%s", format, stdout, stderr)
				}
				if tc.want == 1 && !strings.Contains(stdout, "a secret on a command line") {
					t.Errorf("%s: no finding of the secret:\n%s", format, stdout)
				}
			}
		})
	}
}
