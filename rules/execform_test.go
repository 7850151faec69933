package rules_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

// TestExecFormSecretsNeverShown: passwords in commands that history
// records from argument lists (an exec-form RUN as Docker's builders and
// buildah write it, a CMD, a HEALTHCHECK) are reported, and no value shows
// in the text or JSON report, nor in the commands the explorer prints (the
// layers' and the findings' createdBy).
func TestExecFormSecretsNeverShown(t *testing.T) {
	const msg = "secret-env@%d a secret on a command line is recorded in the build history | %s"
	tests := []struct {
		name    string
		history []it.History
		want    []string
	}{
		{"exec-form RUN", []it.History{
			{CreatedBy: "sh -c curl -u admin:legacyexecpw https://x.invalid/"},
			{CreatedBy: "RUN |1 VERSION=1.2 sh -c mysql -pbuildkitexecpw db # buildkit"},
			{CreatedBy: `/bin/sh -c ["curl","-u","admin:buildahexecpw","https://x.invalid/"]`},
		}, []string{
			fmt.Sprintf(msg, 1, "sh -c curl -u admin:<redacted> https://x.invalid/"),
			fmt.Sprintf(msg, 2, "RUN |1 VERSION=1.2 sh -c mysql -p<redacted> db"),
			fmt.Sprintf(msg, 3, `RUN ["curl","-u","admin:<redacted>","https://x.invalid/"]`),
		}},
		{"CMD", []it.History{
			{CreatedBy: "RUN /bin/sh -c make # buildkit"}, {CreatedBy: "COPY . / # buildkit"}, {CreatedBy: "RUN /bin/sh -c make # buildkit"},
			{CreatedBy: `CMD ["sshpass" "-p" "cmdlistpw" "ssh" "h"]`, EmptyLayer: true},
		}, []string{fmt.Sprintf(msg, 3, `CMD ["sshpass" "-p" "<redacted>" "ssh" "h"]`)}},
		{"HEALTHCHECK", []it.History{
			{CreatedBy: "RUN /bin/sh -c make # buildkit"}, {CreatedBy: "COPY . / # buildkit"}, {CreatedBy: "RUN /bin/sh -c make # buildkit"},
			{CreatedBy: `/bin/sh -c #(nop)  HEALTHCHECK &{["CMD" "curl" "-u" "admin:healthcheckpw" "http://localhost/"] "0s" "0s" "0s" '\x00'}`, EmptyLayer: true},
		}, []string{fmt.Sprintf(msg, 3, `HEALTHCHECK &{["CMD" "curl" "-u" "admin:<redacted>" "http://localhost/"] "0s" "0s" "0s" '\x00'}`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := it.Image{
				Layers:  [][]byte{it.Layer(it.Reg("bin/sh", "sh")), it.Layer(it.Reg("app/x", "x")), it.Layer(it.Reg("app/y", "y")), it.Layer(it.Reg("app/z", "z"))},
				History: append([]it.History{{CreatedBy: "ADD rootfs.tar / # buildkit"}}, tc.history...),
				User:    "10001",
			}
			r := analyse(t, img, nil)
			var got []string
			for _, f := range r.Findings {
				_, m, _ := strings.Cut(f.Message, ": ")
				got = append(got, fmt.Sprintf("%s@%d %s | %s", f.Rule, f.Layer, m, f.CreatedBy))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var text, js bytes.Buffer
			if err := r.WriteText(&text, 200); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			outs := map[string]string{"text report": text.String(), "JSON report": js.String()}
			for i, l := range r.Layers {
				outs[fmt.Sprintf("layer %d's command", i)] = l.CreatedBy
			}
			for i, f := range r.Findings {
				outs[fmt.Sprintf("finding %d's command", i)] = f.CreatedBy
			}
			for form, out := range outs {
				for _, v := range []string{"legacyexecpw", "buildkitexecpw", "buildahexecpw", "cmdlistpw", "healthcheckpw"} {
					if strings.Contains(out, v) {
						t.Errorf("the %s shows a secret: %q", form, v)
					}
				}
			}
		})
	}
}
