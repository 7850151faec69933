package main

import (
	"archive/tar"
	"cmp"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
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

// BenchmarkBaselineHash is the floor for any reader that checks digests,
// as issue 10 defines it: every byte of the archive read once and every
// member's sha256 computed with all cores busy. One member's sha256 is
// sequential, so members are hashed at once, largest first, one per core:
// the time is about the larger of all the bytes' hash time spread over
// the cores and the largest layer's hash time on one core. The others
// report their time as a multiple of it (x-floor) from the same run.
func BenchmarkBaselineHash(b *testing.B) {
	path, size := large(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if err := hashMembers(path, runtime.GOMAXPROCS(0)); err != nil {
			b.Fatal(err)
		}
	}
	floorNs.Store(b.Elapsed().Nanoseconds() / int64(b.N))
}

// BenchmarkBaselineHashOneCore is the archive read and hashed front to
// back on one core, as sha256sum does.
func BenchmarkBaselineHashOneCore(b *testing.B) {
	path, size := large(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		_, err = io.CopyBuffer(h, f, make([]byte, 256<<10))
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	reportFloor(b)
}

// floorNs is BenchmarkBaselineHash's time per run, once it has run.
var floorNs atomic.Int64

// reportFloor reports b's time per run as a multiple of the floor.
func reportFloor(b *testing.B) {
	if f := floorNs.Load(); f > 0 && b.N > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds()/int64(b.N))/float64(f), "x-floor")
	}
}

// hashMembers hashes each member of the tar at path on its own, workers
// at once, largest first; the headers between them are read as a tar
// reader reads them.
func hashMembers(path string, workers int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	type member struct{ off, size int64 }
	var ms []member
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		ms = append(ms, member{off, hdr.Size})
	}
	slices.SortFunc(ms, func(a, b member) int { return cmp.Compare(b.size, a.size) })
	next := make(chan member)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			buf := make([]byte, 256<<10)
			h := sha256.New()
			var err error
			for m := range next {
				h.Reset()
				if _, e := io.CopyBuffer(h, io.NewSectionReader(f, m.off, m.size), buf); e != nil && err == nil {
					err = e
				}
				h.Sum(nil)
			}
			errs <- err
		}()
	}
	for _, m := range ms {
		next <- m
	}
	close(next)
	for range workers {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return err
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
	reportFloor(b)
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
	reportFloor(b)
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
	reportFloor(b)
}
