// Command gen writes a synthetic `docker save` archive for the benchmarks:
// gen -files N -mb M -layers L OUT.tar (see internal/imagetest.WriteLarge).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

func main() {
	files := flag.Int("files", 200_000, "files in all layers together")
	mb := flag.Int64("mb", 1000, "bytes of file content in all, in MiB")
	layers := flag.Int("layers", 7, "layers")
	flag.Parse()
	if flag.NArg() != 1 || *files < *layers || *layers < 1 || *mb < 1 {
		fmt.Fprintln(os.Stderr, "usage: gen [-files N] [-mb M] [-layers L] OUT.tar")
		os.Exit(2)
	}
	out := flag.Arg(0)
	dir, err := os.MkdirTemp(filepath.Dir(out), "gen-")
	if err == nil {
		err = it.WriteLarge(out, dir, *files, *mb<<20, *layers)
		os.RemoveAll(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
