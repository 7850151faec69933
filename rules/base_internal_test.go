package rules

import (
	"testing"

	"github.com/layerscope/layerscope/image"
)

// TestBuildStart: the base's history entries end with its last layer's
// entry and the no-layer entries its own history counts; an ENV after
// them is the build's, attributed to the build's first layer.
func TestBuildStart(t *testing.T) {
	run := image.History{CreatedBy: "/bin/sh -c echo"}
	cmd := image.History{CreatedBy: `/bin/sh -c #(nop)  CMD ["sh"]`, EmptyLayer: true}
	env := image.History{CreatedBy: "/bin/sh -c #(nop)  ENV A=b", EmptyLayer: true}
	hist := []image.History{run, cmd, env, run, run}
	for _, tc := range []struct {
		name                    string
		baseLayers, baseHistory int
		want                    int // buildStart
		envLayer                int // the layer the ENV (entry 2) is attributed to
	}{
		{"no base", 0, 0, -1, 0},
		{"base history known: its CMD is the base's, the ENV the build's", 1, 2, 2, 1},
		{"base history not known: the build starts after its last layer", 1, 0, 1, 1},
		{"base history holds the ENV too", 1, 3, 3, 0},
		{"base history that does not fit (a layer inside): ignored", 1, 4, 1, 1},
		{"base history longer than the image's: ignored", 1, 9, 1, 1},
		{"more base layers than the history makes", 4, 0, -1, 0},
		{"the base is the whole image: no build layer to give it", 3, 0, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := buildStart(hist, tc.baseLayers, tc.baseHistory); got != tc.want {
				t.Errorf("buildStart = %d, want %d", got, tc.want)
			}
			if got := historyEntries(hist, tc.baseLayers, tc.baseHistory)[2].layer; got != tc.envLayer {
				t.Errorf("the ENV is attributed to layer %d, want %d", got, tc.envLayer)
			}
		})
	}
}
