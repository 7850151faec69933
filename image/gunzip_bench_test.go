package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// The gzip blob BenchmarkGunzip decodes: the file LAYERSCOPE_BENCH_GZIP
// names (a registry's layer blob, say), or else a tar of the Go tree's
// sources and binaries (up to 32 MiB), compressed as Docker and BuildKit
// do (the default level).
var (
	gzOnce sync.Once
	gzBlob []byte
	gzErr  error
)

func gzipBlob(b *testing.B) []byte {
	gzOnce.Do(func() {
		if p := os.Getenv("LAYERSCOPE_BENCH_GZIP"); p != "" {
			gzBlob, gzErr = os.ReadFile(p)
			return
		}
		// The Go tree is a corpus every machine that runs this has.
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			gzErr = err
			return
		}
		var buf bytes.Buffer
		zw := stdgzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		var total int64
		gzErr = filepath.WalkDir(strings.TrimSpace(string(out)), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || total > 32<<20 {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			total += int64(len(data))
			if err := tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		})
		if gzErr == nil {
			gzErr = tw.Close()
		}
		if gzErr == nil {
			gzErr = zw.Close()
		}
		gzBlob = buf.Bytes()
	})
	if gzErr != nil {
		b.Fatal(gzErr)
	}
	return gzBlob
}

// BenchmarkGunzip decodes the same blob with Go's compress/gzip and with
// klauspost/compress/gzip, each reading through a bufio.Reader as
// decompress does, one after the other in each round so that both see
// the same load: it reports each one's time per round and their ratio
// (klauspost/stdlib). Bytes are the uncompressed ones, of both decodes.
func BenchmarkGunzip(b *testing.B) {
	blob := gzipBlob(b)
	buf := make([]byte, chunkSize)
	decode := func(zr io.Reader, err error) (int64, time.Duration) {
		start := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		for {
			m, err := zr.Read(buf)
			n += int64(m)
			if err == io.EOF {
				return n, time.Since(start)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	src := func() io.Reader { return bufio.NewReaderSize(bytes.NewReader(blob), 64<<10) }
	b.ReportAllocs()
	var std, kp time.Duration
	var n int64
	for b.Loop() {
		m, d := decode(stdgzip.NewReader(src()))
		std += d
		n, d = decode(gzip.NewReader(src()))
		kp += d
		if n != m {
			b.Fatalf("stdlib decoded %d bytes, klauspost %d", m, n)
		}
	}
	b.SetBytes(2 * n)
	b.ReportMetric(float64(std.Nanoseconds())/float64(b.N), "stdlib-ns/op")
	b.ReportMetric(float64(kp.Nanoseconds())/float64(b.N), "klauspost-ns/op")
	b.ReportMetric(float64(kp)/float64(std), "klauspost/stdlib")
}
