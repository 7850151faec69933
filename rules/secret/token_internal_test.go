package secret

import (
	"math/rand/v2"
	"testing"
)

// TestHasTokenAgrees: the fast search of HasToken finds a token exactly
// when the byte-by-byte one does, around every shape and its edges.
func TestHasTokenAgrees(t *testing.T) {
	tokens := []string{
		"ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d",
		"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",
		"glpat-c7Tvo-hBKqFYY-kv5ZJr",
		"npm_KLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFR",
		"AKIA3R2WYOJFLJOOA7LQ",
		"ASIA3R2WYOJFLJOOA7LQ",
		"xoxb-17653672481-19874698323-goEmvnEN5N1aE6PwZPf1Qh6y",
		"sk_live_Oq9wMxEhh2FDEEtfjgVvVqE1SkHbn88HxjSI",
		"AIzaKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWt",
	}
	edges := "  x_-=@A\n9'"
	r := rand.New(rand.NewPCG(1, 2))
	for _, tok := range tokens {
		for range 1000 {
			b := []byte(string(edges[r.IntN(len(edges))]) + tok + string(edges[r.IntN(len(edges))]))
			switch r.IntN(3) {
			case 0: // cut
				lo := r.IntN(3)
				b = b[lo : lo+r.IntN(len(b)-lo+1)]
			case 1: // change a byte
				if len(b) > 0 {
					b[r.IntN(len(b))] = edges[r.IntN(len(edges))]
				}
			}
			slow, _, _ := findToken(b, 0)
			if HasToken(b) != (slow >= 0) {
				t.Fatalf("HasToken(%q) = %v, the byte-by-byte search says %v", b, HasToken(b), slow >= 0)
			}
		}
	}
}
