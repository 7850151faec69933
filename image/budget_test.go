package image

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

func manyFiles(prefix string, n int) []byte {
	fs := make([]it.File, n)
	for i := range fs {
		fs[i] = it.Reg(fmt.Sprintf("%s/%d", prefix, i), "")
	}
	return it.Layer(fs...)
}

// TestEntryBudget: the entries of every layer a Load parses count against
// one budget: on a stream, the layers no manifest claims as well, which
// all stream past before the manifest. Past it, the error names the limit
// in one line.
func TestEntryBudget(t *testing.T) {
	defer func(n int) { maxEntries = n }(maxEntries)
	maxEntries = 1000
	small := it.Image{Layers: [][]byte{it.Layer(it.Reg("a", "a"))}, Tags: []string{"small:1"}}
	big := it.Image{Layers: [][]byte{manyFiles("x", 400), manyFiles("y", 400), manyFiles("z", 400)}, Tags: []string{"big:1"}}
	withJunk := func(n int) []byte {
		ms := it.DockerArchive(small)
		for i := range n {
			// Members no manifest names, before manifest.json.
			ms = append([]it.Member{{Name: fmt.Sprintf("junk%d/layer.tar", i), Data: manyFiles("j", 400)}}, ms...)
		}
		return it.Tar(ms)
	}
	tests := []struct {
		name    string
		data    []byte
		stdin   bool
		gzipped bool
		daemon  bool
		ok      bool
	}{
		{"stream, unclaimed layers within the budget", withJunk(2), true, false, false, true},
		{"stream, unclaimed layers past the budget", withJunk(3), true, false, false, false},
		{"compressed file, unclaimed layers past the budget", withJunk(3), false, true, false, false},
		{"daemon export, unclaimed layers past the budget", withJunk(3), false, false, true, false},
		{"file, unclaimed layers are never parsed", withJunk(3), false, false, false, true},
		{"file, the image past the budget", it.Tar(it.DockerArchive(big)), false, false, false, false},
		{"stream, the image past the budget", it.Tar(it.DockerArchive(big)), true, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var err error
			switch {
			case tc.stdin:
				_, err = Load(ctx, "-", Options{Stdin: bytes.NewReader(tc.data)})
			case tc.daemon:
				_, err = Load(ctx, "app:1", Options{Daemon: &fakeDaemon{export: tc.data}, Source: SourceDocker})
			default:
				data := tc.data
				if tc.gzipped {
					data = it.GzipBytes(data)
				}
				p := filepath.Join(t.TempDir(), "a.tar")
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
				_, err = Load(ctx, p, Options{})
			}
			switch {
			case tc.ok && err != nil:
				t.Fatalf("Load: %v", err)
			case !tc.ok && (err == nil || !strings.Contains(err.Error(), "too many entries: more than 1000 in all the layers read (layerscope's limit)")):
				t.Fatalf("Load error = %v, want the entry limit", err)
			case err != nil && strings.ContainsAny(err.Error(), "\n\r"):
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}
