package analysis

import (
	"cmp"
	"context"
	"fmt"

	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
)

// NoBase as Options.Base looks for no base image.
const NoBase = "none"

// findBase decides the image's base, in this order: --base (opt.Base),
// the base its manifest's annotations name when that image is at hand,
// the daemon's image whose chain is the longest proper prefix of this
// one's (when the image came from the daemon). It returns the base and its
// layer count, or nil and maybe a warning: a --base that is not the
// image's base, or a search that failed, is a warning, not a failure. An
// error is a --base that could not be read, or ctx ending.
func findBase(ctx context.Context, img *image.Image, opt Options) (*report.BaseImage, int, string, error) {
	if opt.Base == NoBase {
		return nil, 0, "", nil
	}
	chain := img.DiffIDs()
	bopt := opt.Image
	bopt.Progress, bopt.Sniff = nil, nil
	if opt.Base != "" {
		if bopt.Source != image.SourceContainerd && bopt.Source != image.SourceRegistry {
			bopt.Source = "" // --source names IMAGE's kind; the base's is guessed
		}
		c, err := image.ReadChain(ctx, opt.Base, bopt)
		if err != nil {
			return nil, 0, "", fmt.Errorf("--base %s: %w", opt.Base, err)
		}
		if !image.IsPrefix(c.DiffIDs, chain) {
			return nil, 0, fmt.Sprintf("--base %s is not this image's base: its layers (%d) are not the first of this image's (%d); no base used", opt.Base, len(c.DiffIDs), len(chain)), nil
		}
		return &report.BaseImage{Name: opt.Base, ID: c.ID, From: report.BaseFromFlag, History: c.History}, len(c.DiffIDs), "", nil
	}
	c, annotWarning, err := image.AnnotatedBase(ctx, img, bopt)
	if err != nil {
		return nil, 0, "", err
	}
	if c != nil && image.IsPrefix(c.DiffIDs, chain) && len(c.DiffIDs) < len(chain) {
		return &report.BaseImage{Name: c.Name, ID: c.ID, From: report.BaseFromAnnotation, History: c.History}, len(c.DiffIDs), annotWarning, nil
	}
	if img.Source != image.SourceDocker {
		return nil, 0, annotWarning, nil
	}
	c, err = image.DaemonBase(ctx, img, bopt)
	switch {
	case ctx.Err() != nil:
		return nil, 0, "", ctx.Err()
	case err != nil:
		return nil, 0, cmp.Or(annotWarning, "looking for the base image in the daemon: "+err.Error()), nil
	case c == nil:
		return nil, 0, annotWarning, nil
	}
	return &report.BaseImage{Name: c.Name, ID: c.ID, From: report.BaseFromDaemon, History: c.History}, len(c.DiffIDs), annotWarning, nil
}
