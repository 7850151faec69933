package dockerfile

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Step is one entry of an image's build history, as the config records it.
type Step struct {
	CreatedBy  string
	EmptyLayer bool
}

// MatchLayers maps each of an image's layers to the line of the
// instruction that made it: 0 for a layer of the base image. It matches
// the history's last entries to the final stage's instructions in order,
// backwards, and a stage built FROM an earlier stage goes on into that
// stage's instructions; what is left is the base image, and a stage FROM
// scratch leaves nothing. Any instruction that does not match its entry is
// an error: no line is claimed when the mapping is not certain.
func (f *File) MatchLayers(steps []Step, layers int) ([]int, error) {
	nonEmpty := 0
	for _, s := range steps {
		if !s.EmptyLayer {
			nonEmpty++
		}
	}
	if nonEmpty != layers {
		return nil, fmt.Errorf("the image's history names %d layers, it has %d", nonEmpty, layers)
	}
	lines := make([]int, len(steps))
	j := len(steps) - 1
	for st := len(f.Stages) - 1; st >= 0; {
		stage := &f.Stages[st]
		ins := stage.Instructions
		for i := len(ins) - 1; i >= 0; i-- {
			in := &ins[i]
			if j >= 0 && matches(in, steps[j].CreatedBy) {
				lines[j] = in.Line
				j--
				continue
			}
			if in.Keyword == "ARG" {
				continue // a builder may record an ARG or not
			}
			return nil, fmt.Errorf("line %d (%s) does not match the image's history", in.Line, in.Keyword)
		}
		base := strings.ToLower(stage.Base)
		if base == "scratch" {
			if j >= 0 {
				return nil, fmt.Errorf("the stage FROM scratch (line %d) leaves %d history entries unmatched", stage.From.Line, j+1)
			}
			break
		}
		st = f.stageIndex(base, st)
		if st < 0 {
			break // the base image: the entries left are its own
		}
	}
	out := make([]int, 0, layers)
	for k, s := range steps {
		if !s.EmptyLayer {
			out = append(out, lines[k])
		}
	}
	return out, nil
}

// stageIndex finds the earlier stage a FROM names, by AS name or index.
func (f *File) stageIndex(name string, before int) int {
	for k := before - 1; k >= 0; k-- {
		if f.Stages[k].Name != "" && f.Stages[k].Name == name {
			return k
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < before {
		return n
	}
	return -1
}

// knownKeywords are the instructions a builder records by name.
var knownKeywords = map[string]bool{
	"RUN": true, "COPY": true, "ADD": true, "ENV": true, "LABEL": true, "USER": true, "WORKDIR": true,
	"CMD": true, "ENTRYPOINT": true, "EXPOSE": true, "VOLUME": true, "ARG": true, "ONBUILD": true,
	"STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true, "MAINTAINER": true,
}

// historyStep splits a history entry into its keyword and the rest: the
// legacy builder's "/bin/sh -c #(nop) KEYWORD …" and "/bin/sh -c CMD",
// BuildKit's "KEYWORD … # buildkit", and build arguments ("|1 A=b …").
func historyStep(createdBy string) (keyword, rest string) {
	s := strings.TrimSpace(createdBy)
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	if r, ok := strings.CutPrefix(s, "/bin/sh -c #(nop)"); ok {
		kw, rest, _ := strings.Cut(strings.TrimSpace(r), " ")
		return strings.ToUpper(kw), strings.TrimSpace(rest)
	}
	kw, r, _ := strings.Cut(s, " ")
	if knownKeywords[kw] {
		return kw, strings.TrimSpace(r)
	}
	return "RUN", s // the legacy builder records a RUN as its command
}

// matches says whether a history entry is what an instruction records.
func matches(in *Instruction, createdBy string) bool {
	kw, rest := historyStep(createdBy)
	if kw != in.Keyword {
		return false
	}
	switch kw {
	case "RUN":
		return runMatches(in, rest)
	case "COPY", "ADD":
		return copyMatches(in, rest)
	}
	return true
}

// runMatches compares commands with whitespace collapsed: the history ends
// with the Dockerfile's command after the shell's -c (or is it, for the
// exec form).
func runMatches(in *Instruction, hist string) bool {
	h := collapse(hist)
	cmd := strings.TrimSpace(in.Args)
	for strings.HasPrefix(cmd, "--") { // --mount, --network, --security
		_, cmd, _ = strings.Cut(cmd, " ")
		cmd = strings.TrimSpace(cmd)
	}
	cands := []string{cmd}
	if len(in.Heredocs) > 0 {
		cands = append(cands, cmd+"\n"+strings.Join(in.Heredocs, "\n"))
	}
	if strings.HasPrefix(cmd, "[") {
		var argv []string
		if json.Unmarshal([]byte(cmd), &argv) != nil {
			return false
		}
		return h == collapse(strings.Join(argv, " "))
	}
	for _, c := range cands {
		d := collapse(c)
		if d != "" && (h == d || strings.HasSuffix(h, "-c "+d)) {
			return true
		}
	}
	return false
}

// copyMatches compares destinations: the legacy builder records
// "file:<hash> in DEST" (or dir:, multi:), BuildKit the sources and DEST.
func copyMatches(in *Instruction, hist string) bool {
	var dest string
	if k := strings.LastIndex(hist, " in "); k >= 0 && (strings.HasPrefix(hist, "file:") || strings.HasPrefix(hist, "dir:") || strings.HasPrefix(hist, "multi:")) {
		dest = strings.TrimSpace(hist[k+len(" in "):])
	} else {
		f := strings.Fields(hist)
		if len(f) == 0 {
			return false
		}
		dest = f[len(f)-1]
	}
	want := copyDest(in.Args)
	return want != "" && cleanDest(dest) == cleanDest(want)
}

// copyDest is the last argument of COPY or ADD, in either form.
func copyDest(args string) string {
	args = strings.TrimSpace(args)
	if strings.HasPrefix(args, "[") {
		var argv []string
		if json.Unmarshal([]byte(args), &argv) != nil || len(argv) < 2 {
			return ""
		}
		return argv[len(argv)-1]
	}
	f := strings.Fields(args)
	if len(f) < 2 {
		return ""
	}
	return f[len(f)-1]
}

func cleanDest(p string) string { return path.Clean(p) }

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
