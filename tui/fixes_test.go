package tui

import (
	"strings"
	"testing"

	"github.com/layerscope/layerscope/report"
)

// TestNextFindingFromTheHighlightedOne: n and N inside the findings list
// step from the finding highlighted there, not from the last one n went to.
func TestNextFindingFromTheHighlightedOne(t *testing.T) {
	rep := sampleReport(t)
	total := len(rep.Findings)
	tests := []struct {
		name string
		keys []string
		want int // index of the finding gone to
	}{
		{"n after three downs", []string{"f", "j", "j", "j", "n"}, 4},
		{"N after three downs", []string{"f", "j", "j", "j", "N"}, 2},
		{"n after n, then the list moved", []string{"n", "f", "j", "j", "n"}, 3},
		{"N on the first wraps", []string{"f", "N"}, total - 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := drive(t, ready(t, rep, 80, 24), keys(tc.keys...)...)
			if m.findCursor != tc.want {
				t.Errorf("went to finding %d, want %d", m.findCursor, tc.want)
			}
		})
	}
}

// TestTitleCountsLayers: the title says "1 layer", "3 layers".
func TestTitleCountsLayers(t *testing.T) {
	tests := []struct {
		name   string
		layers int
		want   string
	}{
		{"one", 1, " 1 layer · "},
		{"three", 3, " 3 layers · "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := &report.Report{Tree: buildTree(t, []string{"a:1"}), Layers: make([]report.Layer, tc.layers)}
			rep.Summary.Layers = tc.layers
			m := ready(t, rep, 120, 24)
			if title := m.titleLine(); !strings.Contains(title, tc.want) {
				t.Errorf("title %q does not say %q", title, tc.want)
			}
		})
	}
}
