package image

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types"
	dimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/system"
)

// describedDaemon is a listingDaemon that also says what it is, as
// Docker's and podman's /version and /info do.
type describedDaemon struct {
	listingDaemon
	components   []string    // /version's component names
	driverStatus [][2]string // /info's DriverStatus
	err          error       // what /version answers, when set
	described    int         // calls to /version and /info
}

func (d *describedDaemon) ServerVersion(context.Context) (types.Version, error) {
	d.described++
	var v types.Version
	for _, c := range d.components {
		v.Components = append(v.Components, types.ComponentVersion{Name: c})
	}
	return v, d.err
}

func (d *describedDaemon) Info(context.Context) (system.Info, error) {
	d.described++
	return system.Info{DriverStatus: d.driverStatus}, nil
}

// The daemon's base search inspects no image that its image list shows
// larger than the analysed image, where that proves it is no base: on
// Docker's own image store, whose Size sums the image's layers. On
// Docker's containerd image store and podman, a base may be listed larger
// than the image built on it, and an unknown Size (0, -1) proves nothing:
// every image is compared there. Whatever is pruned, the base found is the
// one that comparing every image finds.
func TestDaemonBasePrunesBySize(t *testing.T) {
	img := func(id, tag string, size int64, layers ...string) dimage.InspectResponse {
		var tags []string
		if tag != "" {
			tags = []string{tag}
		}
		return dimage.InspectResponse{ID: id, RepoTags: tags, Size: size, RootFS: dimage.RootFS{Type: "layers", Layers: layers}}
	}
	const selfID = "sha256:self"
	chain := []string{"l0", "l1", "l2"}
	self := func(size int64) dimage.InspectResponse { return img(selfID, "app:1", size, chain...) }
	others := []dimage.InspectResponse{
		img("sha256:os", "debian:12", 100, "l0"),
		img("sha256:mid", "mid:1", 200, "l0", "l1"),
		img("sha256:big", "big:1", 5000, "x0", "x1"),
		img("sha256:longer", "longer:1", 400, "l0", "l1", "l2", "l3"),
		img("sha256:unsized", "", -1, "l0"),
	}
	docker := []string{"Engine", "containerd", "runc", "docker-init"}
	graphDriver := [][2]string{{"Backing Filesystem", "extfs"}, {"Supports d_type", "true"}}
	containerdStore := [][2]string{{"driver-type", "io.containerd.snapshotter.v1"}}
	// On the containerd image store a base that holds more platforms is
	// listed larger than the image built on it.
	largerBase := append([]dimage.InspectResponse{self(300), img("sha256:mid", "mid:1", 900, "l0", "l1")}, others[2:]...)
	for _, tc := range []struct {
		name       string
		images     []dimage.InspectResponse
		components []string
		driver     [][2]string
		err        error
		want       string   // the base's name, "" for none
		skipped    []string // images that must not be inspected; nil: all but the image itself are
		described  bool     // whether the daemon is asked what it is
	}{
		{"Docker's graph driver: the larger are not inspected", append([]dimage.InspectResponse{self(300)}, others...), docker, graphDriver, nil,
			"mid:1", []string{"sha256:big", "sha256:longer"}, true},
		{"Docker's graph driver, none larger: the daemon is not asked", append([]dimage.InspectResponse{self(300)}, others[:2]...), docker, graphDriver, nil,
			"mid:1", nil, false},
		{"Docker's containerd image store: all compared", largerBase, docker, containerdStore, nil, "mid:1", nil, true},
		{"podman: all compared", largerBase, []string{"Podman Engine", "Conmon"}, nil, nil, "mid:1", nil, true},
		{"a daemon that does not say what it is: all compared", append([]dimage.InspectResponse{self(300)}, others...), docker, graphDriver, errors.New("no /version"),
			"mid:1", nil, true},
		{"the image's size is 0: all compared", append([]dimage.InspectResponse{self(0)}, others...), docker, graphDriver, nil, "mid:1", nil, false},
		{"the image's size is -1: all compared", append([]dimage.InspectResponse{self(-1)}, others...), docker, graphDriver, nil, "mid:1", nil, false},
		{"the image is not listed: all compared", others, docker, graphDriver, nil, "mid:1", nil, false},
		{"no base among the smaller", []dimage.InspectResponse{self(300), others[2], img("sha256:fork", "fork:1", 150, "l0", "lx")}, docker, graphDriver, nil,
			"", []string{"sha256:big"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			image := &Image{ID: selfID, Source: SourceDocker}
			for _, l := range chain {
				image.Layers = append(image.Layers, Layer{Digest: l})
			}
			// Every image compared, as a client that cannot say what
			// its daemon is: the base the search must find.
			all := &listingDaemon{images: tc.images}
			want, err := DaemonBase(ctx, image, Options{Daemon: all})
			if err != nil {
				t.Fatal(err)
			}
			d := &describedDaemon{listingDaemon: listingDaemon{images: tc.images}, components: tc.components, driverStatus: tc.driver, err: tc.err}
			got, err := DaemonBase(ctx, image, Options{Daemon: d})
			if err != nil {
				t.Fatal(err)
			}
			name := func(c *Chain) string {
				if c == nil {
					return ""
				}
				return c.Name
			}
			if name(got) != tc.want || name(want) != tc.want {
				t.Errorf("base %q, comparing every image %q; want %q", name(got), name(want), tc.want)
			}
			if got != nil && want != nil && (got.ID != want.ID || !slices.Equal(got.DiffIDs, want.DiffIDs)) {
				t.Errorf("base %+v, comparing every image %+v", got, want)
			}
			for _, i := range tc.images {
				inspected := slices.Contains(d.asked, i.ID)
				switch {
				case i.ID == selfID && inspected:
					t.Errorf("the image itself was inspected")
				case i.ID == selfID:
				case slices.Contains(tc.skipped, i.ID) && inspected:
					t.Errorf("%s (Size %d, the image's %d) was inspected", i.ID, i.Size, tc.images[0].Size)
				case !slices.Contains(tc.skipped, i.ID) && !inspected:
					t.Errorf("%s (Size %d) was not inspected", i.ID, i.Size)
				}
			}
			if (d.described > 0) != tc.described {
				t.Errorf("the daemon was asked what it is %d times, want asked: %v", d.described, tc.described)
			}
		})
	}
}
