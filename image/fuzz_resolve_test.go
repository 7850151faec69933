package image

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"
)

// FuzzResolve builds an OCI layout from the fuzzer's numbers and strings:
// index.json → nested indexes, fanning out → an index of image manifests
// with fuzzed platforms, references and attestations, beside a nested
// index whose JSON is the fuzzer's own. Every digest is right, so the
// resolver's walk, not its digest check, meets the input. It must not
// panic, must end on its own well before the deadline, and its errors are
// one line.
func FuzzResolve(f *testing.F) {
	f.Add(uint16(1), uint16(1), uint8(0), "", "", "", "", uint8(0), []byte(nil))
	f.Add(uint16(3), uint16(40), uint8(2), "app", "linux/arm64/v8", "app-1", "linux/arm64", uint8(1), []byte(`{"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:`+strings.Repeat("0", 64)+`"}]}`))
	f.Add(uint16(63), uint16(63), uint8(6), "r", "linux/amd64", "", "", uint8(2), []byte(`{"manifests":[]}`))
	f.Add(uint16(2), uint16(5), uint8(1), "docker.io/library/x:1", "unknown/unknown", "x:1", "", uint8(3), []byte(`[`))
	base, m := tinyLayout(f)
	f.Fuzz(func(t *testing.T, fanTop, fanMid uint16, depth uint8, ref, plat, askRef, askPlat string, attest uint8, raw []byte) {
		st := &memStore{files: maps.Clone(base.files), reads: map[string]int{}}
		// The image's platform is its own text: any bytes, not only what
		// --platform accepts.
		var p *Platform
		if parts := strings.SplitN(plat, "/", 3); len(parts) >= 2 {
			p = &Platform{OS: parts[0], Architecture: parts[1]}
			if len(parts) == 3 {
				p.Variant = parts[2]
			}
		}
		leaf := fanOut(m, int(fanMid%64)+1, func(i int, d *descriptor) {
			if p != nil {
				q := *p
				if i > 0 {
					q.Variant += fmt.Sprint(i % 7)
				}
				d.Platform = &q
			}
			d.Annotations = map[string]string{}
			if ref != "" {
				d.Annotations[annotationRef] = fmt.Sprintf("%s-%d", ref, i%3)
			}
			if attest&1 != 0 && i%2 == 0 {
				d.Annotations[annotationAttest] = "attestation-manifest"
			}
		})
		if len(raw) > 0 {
			d := digestOf(raw)
			st.files["blobs/sha256/"+d[len("sha256:"):]] = raw
			mt := mediaOCIIndex
			if attest&2 != 0 {
				mt = mediaDockerList
			}
			leaf = append(leaf, descriptor{MediaType: mt, Digest: d, Size: int64(len(raw))})
		}
		cur := st.add(mediaOCIIndex, ociIndex{Manifests: leaf})
		for range int(depth) % (maxIndexDepth + 3) {
			cur = st.add(mediaOCIIndex, ociIndex{Manifests: fanOut(cur, int(fanTop%64)+1, nil)})
		}
		st.setIndex([]descriptor{cur})
		w := want{ref: askRef}
		w.platform, _ = ParsePlatform(askPlat)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := resolveOCI(ctx, st, w)
		if ctx.Err() != nil {
			t.Fatalf("the resolver ran into its 10 s deadline: %v", err)
		}
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		if c.config == nil || c.id == "" || len(c.layers) != 1 {
			t.Fatalf("resolved without an image: %+v", c)
		}
		for name, n := range st.reads {
			if n > 1 {
				t.Fatalf("%s read %d times", name, n)
			}
		}
	})
}
