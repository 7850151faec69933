package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/dustin/go-humanize"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DaemonClient is what layerscope asks of the Docker Engine API: any
// socket that speaks it (Docker, podman's) works the same.
type DaemonClient interface {
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImageSave(ctx context.Context, refs []string, opts ...client.ImageSaveOption) (io.ReadCloser, error)
	Ping(ctx context.Context) (types.Ping, error)
	ClientVersion() string
	DaemonHost() string
}

// platformAPI is the first API version whose export takes a platform.
const platformAPI = "1.48"

func loadDaemon(ctx context.Context, ref string, opt Options, ps *parsing) (*Image, error) {
	prog := opt.Progress
	cli := opt.Daemon
	if cli == nil {
		prog.setPhase("connecting to the Docker daemon")
		c, err := NewDaemonClient(ctx)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		cli = c
	}
	prog.setPhase("asking the daemon about " + ref)
	info, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		return nil, daemonError(ctx, cli, ref, err)
	}
	var saveOpts []client.ImageSaveOption
	if p := opt.Platform; p != nil {
		if !versionAtLeast(cli.ClientVersion(), platformAPI) {
			if !p.matches(Platform{OS: info.Os, Architecture: info.Architecture, Variant: info.Variant}) {
				return nil, fmt.Errorf("the daemon holds %s for %s/%s, and its API (%s) cannot export another platform (needs %s)",
					ref, info.Os, info.Architecture, cli.ClientVersion(), platformAPI)
			}
		} else {
			saveOpts = append(saveOpts, client.ImageSaveWithPlatforms(ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}))
		}
	}
	prog.setTotal(info.Size)
	prog.setPhase(fmt.Sprintf("the daemon is preparing the export of %s (%s): it sends nothing until it is done",
		ref, humanize.Bytes(uint64(max(info.Size, 0)))))
	if n := len(info.RootFS.Layers); len(saveOpts) == 0 && n > 0 && n <= MaxLayers {
		// The export names its layers' order only at its end; the
		// daemon's diff IDs let each merge as it streams. finish checks
		// them against the export's own config.
		ps.startMerge(ctx, info.RootFS.Layers, true)
	}
	rc, err := cli.ImageSave(ctx, []string{ref}, saveOpts...)
	if err != nil {
		return nil, daemonError(ctx, cli, ref, err)
	}
	defer rc.Close()
	tail := &tailReader{r: rc}
	in := &progressReader{r: tail, p: prog, first: func() { prog.setPhase("reading the export") }}
	st, err := readStream(ctx, in, prog, ps)
	if err != nil {
		if msg := tail.daemonMessage(); msg != "" {
			return nil, fmt.Errorf("the daemon failed during the export: %s", msg)
		}
		return nil, fmt.Errorf("reading the export of %s: %w", ref, err)
	}
	img, err := finish(ctx, st, want{}, Options{Progress: prog}, cli.DaemonHost(), SourceDockerArchive)
	if err != nil {
		return nil, err
	}
	img.Source, img.Ref, img.ID = SourceDocker, ref, info.ID
	return img, nil
}

// daemonError turns the client's errors into one line that says what to do.
func daemonError(ctx context.Context, cli DaemonClient, ref string, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err() // Load says it was interrupted
	case client.IsErrConnectionFailed(err):
		return &daemonMissError{noDaemon: true, host: cli.DaemonHost(), msg: fmt.Sprintf("cannot reach the Docker daemon at %s: is it running? (set DOCKER_HOST or a docker context to use another)", cli.DaemonHost())}
	case !isDaemon(ctx, cli):
		return fmt.Errorf("%s answers, but not as a Docker daemon: it is another server (set DOCKER_HOST or a docker context to the daemon)", cli.DaemonHost())
	case cerrdefs.IsNotFound(err):
		return &daemonMissError{host: cli.DaemonHost(), msg: fmt.Sprintf("image %q not found in the daemon at %s (pull or build it first)", ref, cli.DaemonHost())}
	}
	var ue *url.Error // the client's requests name the socket as an escaped URL
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("docker daemon: %s", firstLine(err.Error()))
}

// daemonMissError is a daemon that does not have the image, or no daemon
// at all: the image may still be read from its registry.
type daemonMissError struct {
	noDaemon bool
	host     string
	msg      string
}

func (e *daemonMissError) Error() string { return e.msg }

// isDaemon asks the host whether it speaks the Engine API: a daemon (or
// podman's socket) answers /_ping with its API version, even when it is
// unwell; any other HTTP server does not.
func isDaemon(ctx context.Context, cli DaemonClient) bool {
	ctx, cancel := context.WithTimeout(ctx, pingWait)
	defer cancel()
	p, err := cli.Ping(ctx)
	// A ping that does not come back in time says nothing about what
	// answers: only an answer without an API version is another server.
	return p.APIVersion != "" || errors.Is(err, context.DeadlineExceeded)
}

// pingWait bounds the ping that tells a daemon from another server.
var pingWait = 5 * time.Second

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// versionAtLeast compares API versions such as "1.41".
func versionAtLeast(have, need string) bool {
	var hm, hn, nm, nn int
	fmt.Sscanf(have, "%d.%d", &hm, &hn)
	fmt.Sscanf(need, "%d.%d", &nm, &nn)
	return hm > nm || (hm == nm && hn >= nn)
}

// tailReader keeps the last bytes read, where a daemon that fails in the
// middle of an export appends its error as JSON.
type tailReader struct {
	r    io.Reader
	tail []byte
}

const tailKeep = 64 << 10

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.tail = append(t.tail, p[:n]...)
	if len(t.tail) > 2*tailKeep {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-tailKeep:]...)
	}
	return n, err
}

// daemonMessage reads what is left of the stream (a little) and returns the
// message of an errorDetail document in it, if any.
func (t *tailReader) daemonMessage() string {
	rest, _ := io.ReadAll(io.LimitReader(t.r, tailKeep))
	data := append(t.tail, rest...)
	i := bytes.LastIndex(data, []byte(`{"errorDetail"`))
	if i < 0 {
		i = bytes.LastIndex(data, []byte(`{"error"`))
	}
	if i < 0 {
		return ""
	}
	var msg struct {
		Error       string `json:"error"`
		ErrorDetail struct {
			Message string `json:"message"`
		} `json:"errorDetail"`
	}
	if err := json.NewDecoder(bytes.NewReader(data[i:])).Decode(&msg); err != nil {
		return ""
	}
	if msg.ErrorDetail.Message != "" {
		return firstLine(msg.ErrorDetail.Message)
	}
	return firstLine(msg.Error)
}

// NewDaemonClient connects as the docker CLI would: DOCKER_HOST,
// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH first, else the docker context
// that DOCKER_CONTEXT or the CLI config's currentContext names. The API
// version is negotiated, so old engines (API 1.41) and new ones both work.
func NewDaemonClient(ctx context.Context) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if os.Getenv("DOCKER_HOST") == "" {
		ep, err := contextEndpoint()
		if err != nil {
			return nil, err
		}
		if ep != nil {
			opts = append(opts, client.WithHost(ep.Host))
			if ep.tlsDir != "" {
				opts = append(opts, client.WithTLSClientConfig(
					filepath.Join(ep.tlsDir, "ca.pem"), filepath.Join(ep.tlsDir, "cert.pem"), filepath.Join(ep.tlsDir, "key.pem")))
			}
		}
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if host := c.DaemonHost(); strings.HasPrefix(host, "ssh://") {
		// The docker CLI runs ssh to reach such a host; layerscope runs
		// nothing.
		c.Close()
		return nil, fmt.Errorf("the Docker daemon at %s is reached over ssh, which layerscope does not do: run 'docker save IMAGE | layerscope -' instead", host)
	}
	c.NegotiateAPIVersion(ctx)
	return c, nil
}

type endpoint struct {
	Host   string
	tlsDir string
}

// contextEndpoint resolves the current docker context, which the Go
// client's FromEnv does not read. nil means the default daemon.
func contextEndpoint() (*endpoint, error) {
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil
		}
		dir = filepath.Join(home, ".docker")
	}
	name := os.Getenv("DOCKER_CONTEXT")
	if name == "" {
		data, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil {
			return nil, nil // no CLI config: the default daemon
		}
		var cfg struct {
			CurrentContext string `json:"currentContext"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("docker CLI config %s: %w", filepath.Join(dir, "config.json"), err)
		}
		name = cfg.CurrentContext
	}
	if name == "" || name == "default" {
		return nil, nil
	}
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	data, err := os.ReadFile(filepath.Join(dir, "contexts", "meta", id, "meta.json"))
	if err != nil {
		return nil, fmt.Errorf("docker context %q not found (in %s)", name, filepath.Join(dir, "contexts"))
	}
	var meta struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, fmt.Errorf("docker context %q: %w", name, err)
	}
	ep := meta.Endpoints["docker"]
	if ep.Host == "" {
		return nil, fmt.Errorf("docker context %q has no docker endpoint", name)
	}
	out := &endpoint{Host: ep.Host}
	tlsDir := filepath.Join(dir, "contexts", "tls", id, "docker")
	if _, err := os.Stat(filepath.Join(tlsDir, "ca.pem")); err == nil {
		out.tlsDir = tlsDir
	}
	return out, nil
}
