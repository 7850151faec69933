package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
)

// Where containerd is, when neither a flag nor the environment says.
const (
	DefaultContainerdAddress   = "/run/containerd/containerd.sock"
	DefaultContainerdNamespace = "default"
)

// containerdDialTimeout bounds the wait for containerd's socket.
const containerdDialTimeout = 10 * time.Second

// loadContainerd reads an image from containerd's content store through
// its API: the image's target from the images service, then manifests,
// config and layer blobs, as stored (compressed or not), streamed from the
// content service. Nothing is unpacked or written.
func loadContainerd(ctx context.Context, ref string, opt Options, ps *parsing) (*Image, error) {
	prog := opt.Progress
	addr := firstOf(opt.ContainerdAddress, os.Getenv("CONTAINERD_ADDRESS"), DefaultContainerdAddress)
	ns := firstOf(opt.ContainerdNamespace, os.Getenv("CONTAINERD_NAMESPACE"), DefaultContainerdNamespace)
	prog.setPhase("connecting to containerd at " + addr)
	c, err := newContainerdClient(addr, ns)
	if err != nil {
		return nil, err
	}
	defer c.conn.close()
	prog.setPhase("asking containerd about " + ref)
	img, err := c.image(ctx, ref)
	if err != nil {
		return nil, err
	}
	t := img.Target
	if t == nil || !digestRE.MatchString(t.Digest) || t.Size < 0 || t.Size > MaxJSON {
		return nil, fmt.Errorf("containerd's image %s has no usable target", cutItem(img.Name))
	}
	data, err := c.read(ctx, t.Digest, MaxJSON)
	if err != nil {
		return nil, c.explain(ctx, fmt.Errorf("reading the manifest of %s: %w", cutItem(img.Name), err))
	}
	if got := digestOf(data); got != t.Digest {
		return nil, fmt.Errorf("containerd's manifest of %s: digest mismatch: content is %s, the image names %s", cutItem(img.Name), got, t.Digest)
	}
	st, err := newRemoteStore(ctx, c, data, t.MediaType, prog, ps)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cutItem(img.Name), err)
	}
	fo := opt
	fo.Source = SourceOCI
	out, err := finish(ctx, st, want{platform: opt.Platform}, fo, addr+" (namespace "+ns+")", SourceOCI)
	if err != nil {
		return nil, err
	}
	out.Source, out.Ref = SourceContainerd, img.Name
	for i := range out.Layers {
		if l := &out.Layers[i]; l.BlobDigest == "" { // stored uncompressed: still its blob
			l.BlobDigest, l.BlobBytes = l.Digest, l.TarBytes
		}
	}
	return out, nil
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// containerdClient speaks to containerd's images and content services in
// one namespace.
type containerdClient struct {
	addr, ns string
	conn     *grpcConn
}

func newContainerdClient(addr, ns string) (*containerdClient, error) {
	path := strings.TrimPrefix(addr, "unix://")
	if fi, err := os.Stat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("cannot reach containerd at %s: no socket there (set --containerd-address or CONTAINERD_ADDRESS to another)", addr)
	}
	return &containerdClient{addr: addr, ns: ns, conn: newGRPCConn(addr, ns)}, nil
}

// image finds ref as given, and as containerd names images
// (docker.io/library/NAME:latest for NAME).
func (c *containerdClient) image(ctx context.Context, ref string) (*ctrImage, error) {
	names := []string{ref}
	if n, err := reference.ParseNormalizedNamed(ref); err == nil {
		if full := reference.TagNameOnly(n).String(); full != ref {
			names = append(names, full)
		}
	}
	for _, n := range names {
		msg, err := c.conn.unary(ctx, "containerd.services.images.v1.Images/Get", pbString(nil, 1, n))
		if grpcCode(err) == grpcNotFound {
			continue
		}
		if err != nil {
			return nil, c.explain(ctx, err)
		}
		var im *ctrImage
		err = pbFields(msg, func(f int, data []byte, _ uint64) error {
			if f == 1 {
				var err error
				im, err = parseCtrImage(data)
				return err
			}
			return nil
		})
		if err != nil || im == nil {
			return nil, fmt.Errorf("containerd at %s: a bad answer about %s: %v", c.addr, n, err)
		}
		return im, nil
	}
	return nil, c.notFound(ctx, names)
}

// notFound names the namespace and what it holds, since a wrong namespace
// (Kubernetes keeps its images in k8s.io) is the usual cause.
func (c *containerdClient) notFound(ctx context.Context, names []string) error {
	msg := fmt.Sprintf("image %q not found in containerd at %s, namespace %s", names[len(names)-1], c.addr, c.ns)
	resp, err := c.conn.unary(ctx, "containerd.services.images.v1.Images/List", nil)
	if err != nil {
		return errors.New(msg)
	}
	var held []string
	pbFields(resp, func(f int, data []byte, _ uint64) error {
		if f == 1 {
			if im, err := parseCtrImage(data); err == nil {
				held = append(held, im.Name)
			}
		}
		return nil
	})
	slices.Sort(held)
	if len(held) == 0 {
		return fmt.Errorf("%s, which holds no image (Kubernetes uses --namespace k8s.io)", msg)
	}
	return fmt.Errorf("%s, which holds %s", msg, listCut(held, len(held)))
}

var _ fetcher = (*containerdClient)(nil)

func (c *containerdClient) where() string { return "containerd at " + c.addr }

func (c *containerdClient) manifest(ctx context.Context, id string) ([]byte, string, error) {
	data, err := c.read(ctx, id, MaxJSON)
	return data, "", err
}

// read reads a whole document of at most limit bytes.
func (c *containerdClient) read(ctx context.Context, digest string, limit int64) ([]byte, error) {
	rc, err := c.blob(ctx, digest, limit)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readLimited(rc, "blob "+digest)
}

// blob streams a blob from the content store, as stored.
func (c *containerdClient) blob(ctx context.Context, digest string, size int64) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	req := pbString(nil, 1, digest)
	if size >= 0 {
		req = pbInt(req, 3, size+1) // a longer blob is told, not read
	}
	s, err := c.conn.call(ctx, "containerd.services.content.v1.Content/Read", req)
	if err != nil {
		cancel()
		return nil, err
	}
	return &contentReader{s: s, cancel: cancel}, nil
}

// contentReader turns the content service's stream of chunks (offset 1,
// data 2) into bytes.
type contentReader struct {
	s      *grpcStream
	cancel context.CancelFunc
	buf    []byte
	off    int64
	once   sync.Once
}

func (r *contentReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		msg, err := r.s.recv()
		if err != nil {
			return 0, err // io.EOF at the end
		}
		var off int64
		var data []byte
		if err := pbFields(msg, func(f int, d []byte, v uint64) error {
			switch f {
			case 1:
				off = int64(v)
			case 2:
				data = d
			}
			return nil
		}); err != nil {
			return 0, fmt.Errorf("containerd's content stream: %w", err)
		}
		if off != r.off {
			return 0, fmt.Errorf("containerd sent bytes at offset %d, expected %d", off, r.off)
		}
		r.buf = data
		r.off += int64(len(data))
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *contentReader) Close() error {
	r.once.Do(func() { r.s.close(); r.cancel() })
	return nil
}

// explain says containerd's errors in a user's words.
func (c *containerdClient) explain(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var st *grpcStatus
	if !errors.As(err, &st) {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("containerd at %s closed the stream in the middle of a blob", c.addr)
		}
		return fmt.Errorf("containerd at %s: %s", c.addr, firstLine(err.Error()))
	}
	switch st.code {
	case grpcUnavailable:
		return fmt.Errorf("cannot reach containerd at %s: %s (set --containerd-address or CONTAINERD_ADDRESS to another)", c.addr, firstLine(st.msg))
	case grpcPermissionDenied:
		return fmt.Errorf("containerd at %s refuses access: run as a user allowed its socket (often root)", c.addr)
	case grpcNotFound:
		return fmt.Errorf("containerd at %s (namespace %s) lacks content the image names: %s", c.addr, c.ns, firstLine(st.msg))
	case grpcUnimplemented:
		return fmt.Errorf("%s answers, but not as containerd: %s", c.addr, firstLine(st.msg))
	}
	return fmt.Errorf("containerd at %s: %s", c.addr, firstLine(st.msg))
}
