package image

// layerHistory maps history entries to layers: entries with empty_layer
// have none, the others take the layers in order. It returns one raw
// created_by per layer, and whether the counts agreed.
func layerHistory(h []History, layers int) ([]History, bool) {
	out := make([]History, layers)
	i := 0
	for _, e := range h {
		if e.EmptyLayer {
			continue
		}
		if i < layers {
			out[i] = e
		}
		i++
	}
	return out, i == layers
}
