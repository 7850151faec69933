package main

import (
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/layerscope/layerscope/analysis"
	"github.com/layerscope/layerscope/image"
	it "github.com/layerscope/layerscope/internal/imagetest"
)

// The large synthetic export the benchmarks read. Its scale is set by
// LAYERSCOPE_BENCH_FILES and LAYERSCOPE_BENCH_MB (default: 200,000 files,
// 1,000 MB, 7 layers), and it is written once per run, unless
// LAYERSCOPE_BENCH_ARCHIVE names an archive to read instead (bench/gen
// writes the same ones).
var (
	largeOnce sync.Once
	largePath string
	largeErr  error
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func large(b *testing.B) (string, int64) {
	largeOnce.Do(func() {
		if largePath = os.Getenv("LAYERSCOPE_BENCH_ARCHIVE"); largePath != "" {
			return
		}
		dir, err := os.MkdirTemp("", "layerscope-bench-")
		if err != nil {
			largeErr = err
			return
		}
		largePath = filepath.Join(dir, "large.tar")
		largeErr = it.WriteLarge(largePath, dir, envInt("LAYERSCOPE_BENCH_FILES", 200_000), int64(envInt("LAYERSCOPE_BENCH_MB", 1000))<<20, 7)
	})
	if largeErr != nil {
		b.Fatal(largeErr)
	}
	fi, err := os.Stat(largePath)
	if err != nil {
		b.Fatal(err)
	}
	return largePath, fi.Size()
}

// BenchmarkBaselineHash reads the archive and hashes every byte once: the
// floor for any reader that checks digests. Compare the others to it.
func BenchmarkBaselineHash(b *testing.B) {
	path, size := large(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		io.CopyBuffer(h, f, make([]byte, 256<<10))
		f.Close()
	}
}

func analyse(b *testing.B, arg string, stdin io.Reader) {
	if _, _, err := analysis.Run(context.Background(), arg, analysis.Options{Image: image.Options{Stdin: stdin}}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAnalyseArchive is `layerscope --ci large.tar`: the archive is
// read at random, layers in parallel.
func BenchmarkAnalyseArchive(b *testing.B) {
	path, size := large(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		analyse(b, path, nil)
	}
}

// BenchmarkAnalyseStream is the same archive read once, front to back, as
// a daemon export or a pipe delivers it.
func BenchmarkAnalyseStream(b *testing.B) {
	path, size := large(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		analyse(b, "-", struct{ io.Reader }{f})
		f.Close()
	}
}

// BenchmarkCommand is the whole of `layerscope --ci large.tar`: the
// rules' sniffer while parsing, the merge, the rules and the text report.
// Its gap to BenchmarkAnalyseArchive (analysis.Run: parse, merge, rules,
// verdict) is the settings and the report's output.
func BenchmarkCommand(b *testing.B) {
	path, size := large(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if code, err := run(context.Background(), []string{"--ci", path}, nil, io.Discard, io.Discard); err != nil || code > 1 {
			b.Fatal(code, err)
		}
	}
}
