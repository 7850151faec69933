package rules_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	it "github.com/layerscope/layerscope/internal/imagetest"
	"github.com/layerscope/layerscope/report"
)

// TestHostNodeModulesManyPackages: a COPY of the build context with a big
// node_modules (a package.json in every package) and a later npm ci is
// judged in linear time: once, beside the app's package.json. The old code
// rebuilt every path of the layer for each package.json (16 s for 1,500
// packages).
func TestHostNodeModulesManyPackages(t *testing.T) {
	const packages, filesEach = 3000, 20
	files := []it.File{it.Reg("app/package.json", "{}"), it.Reg("app/main.js", "x")}
	for p := range packages {
		dir := fmt.Sprintf("app/node_modules/p%d/", p)
		files = append(files, it.Reg(dir+"package.json", "{}"))
		for f := range filesEach {
			files = append(files, it.Reg(fmt.Sprintf("%slib/f%d.js", dir, f), "x"))
		}
		// A nested node_modules: under the top one, not a finding of its own.
		files = append(files, it.Reg(dir+"node_modules/dep/index.js", "x"))
	}
	img := it.Image{Layers: [][]byte{it.Layer(it.Chmod(it.Reg("bin/sh", "ELF"), 0o755)), it.Layer(files...),
		it.Layer(it.Reg("app/node_modules/.package-lock.json", "{}"))},
		History: []it.History{{CreatedBy: "ADD rootfs.tar /"}, {CreatedBy: "COPY . /app # buildkit"}, {CreatedBy: "RUN /bin/sh -c npm ci # buildkit"}}, User: "10001"}

	done := make(chan *report.Report, 1)
	go func() { done <- analyse(t, img, nil) }()
	select {
	case r := <-done:
		want := []string{"context-junk@1 /app/node_modules", "install-after-copy@2 "}
		if got := brief(r.Findings); !reflect.DeepEqual(got, want) {
			t.Fatalf("%d findings %q…, want %q", len(got), got[:min(len(got), 3)], want)
		}
		if f := r.Findings[0]; f.Bytes != packages*(2+filesEach+1) {
			t.Errorf("bytes %d, want %d: %s", f.Bytes, packages*(2+filesEach+1), f.Message)
		}
	case <-time.After(20 * time.Second): // a generous deadline: this takes well under 1 s
		t.Fatal("not judged within 20 s")
	}
}
