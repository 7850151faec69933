package main

import (
	"bytes"
	"flag"
	"os"
	"testing"

	it "github.com/layerscope/layerscope/internal/imagetest"
)

var update = flag.Bool("update", false, "rewrite testdata/sample.tar and golden files")

// TestSampleUpToDate keeps the bundled sample image what its generator
// makes: go test -run TestSampleUpToDate -update rewrites it.
func TestSampleUpToDate(t *testing.T) {
	want := it.Tar(it.DockerArchive(it.Sample()))
	if *update {
		if err := os.WriteFile("testdata/sample.tar", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("testdata/sample.tar")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("testdata/sample.tar differs from what internal/imagetest.Sample makes: run go test -run TestSampleUpToDate -update")
	}
}
