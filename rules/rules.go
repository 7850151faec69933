package rules

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/rules/secret"
	"github.com/layerscope/layerscope/tree"
)

// Set is a compiled rule set: the table, less the rules switched off, plus
// the rules a config adds.
type Set struct {
	rules    []compiled
	byBase   map[string][]ref
	byExt    map[string][]ref
	byParent map[string][]ref
	generic  []ref
}

type compiled struct {
	Rule
	pats   []pattern
	except []pattern
}

type ref struct{ rule, pat int }

// NewSet compiles the table with the changes a config asks for. Added
// rules take their place after the built-in rules of their category.
func NewSet(add []Rule, disable []string) (*Set, error) {
	known := map[string]bool{}
	for _, r := range Table {
		known[r.ID] = true
	}
	for _, id := range disable {
		if !known[id] && !slices.ContainsFunc(add, func(r Rule) bool { return r.ID == id }) {
			return nil, fmt.Errorf("disable: no rule %q (see layerscope --list-rules)", id)
		}
	}
	all := slices.Clone(Table)
	for _, r := range add {
		switch {
		case r.ID == "" || known[r.ID]:
			return nil, fmt.Errorf("added rule %q: give it an id of its own", r.ID)
		case !slices.Contains(Categories, r.Category):
			return nil, fmt.Errorf("added rule %q: category %q is not one of %s", r.ID, r.Category, categoryList())
		case severityRank[r.Severity] == 0 && r.Severity != Error:
			return nil, fmt.Errorf("added rule %q: severity %q is not error, warning or info", r.ID, r.Severity)
		case len(r.Paths) == 0:
			return nil, fmt.Errorf("added rule %q: give it paths", r.ID)
		}
		known[r.ID] = true
		all = append(all, r)
	}
	slices.SortStableFunc(all, func(a, b Rule) int {
		return cmp.Compare(slices.Index(Categories, a.Category), slices.Index(Categories, b.Category))
	})
	s := &Set{byBase: map[string][]ref{}, byExt: map[string][]ref{}, byParent: map[string][]ref{}}
	for _, r := range all {
		if slices.Contains(disable, r.ID) {
			continue
		}
		c := compiled{Rule: r}
		for _, p := range r.Paths {
			pat, err := compile(p)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.ID, err)
			}
			c.pats = append(c.pats, pat)
		}
		for _, p := range r.Except {
			pat, err := compile(p)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.ID, err)
			}
			c.except = append(c.except, pat)
		}
		s.rules = append(s.rules, c)
		i := len(s.rules) - 1
		for j := range c.pats {
			s.index(ref{i, j}, &c.pats[j])
		}
	}
	return s, nil
}

// index files a pattern under the cheapest key that finds it.
func (s *Set) index(r ref, p *pattern) {
	base, ext := p.keys()
	parent := strings.Join(p.segs[:len(p.segs)-1], "/")
	switch {
	case base != "":
		s.byBase[base] = append(s.byBase[base], r)
	case ext != "":
		s.byExt[ext] = append(s.byExt[ext], r)
	case !p.anyDepth && !strings.ContainsAny(parent, `*?[\`):
		s.byParent[parent] = append(s.byParent[parent], r)
	default:
		s.generic = append(s.generic, r)
	}
}

// group gathers the files one finding covers: one rule, one layer, one
// directory.
type group struct {
	rule  int
	layer int
	dir   string
	bytes int64
	files int
	top   []pathBytes // the largest files
}

type groupKey struct {
	rule, layer int
	dir         string
}

type pathBytes struct {
	path  string
	bytes int64
}

func (g *group) add(p string, n int64) {
	g.bytes += n
	g.files++
	g.top = append(g.top, pathBytes{p, n})
	if len(g.top) > 2*maxPaths {
		slices.SortFunc(g.top, func(a, b pathBytes) int { return cmp.Compare(b.bytes, a.bytes) })
		g.top = g.top[:maxPaths]
	}
}

// maxPaths is how many paths a finding names.
const maxPaths = 5

// finder is one run of Find.
type finder struct {
	s       *Set
	t       *tree.Tree
	groups  map[groupKey]*group
	order   []groupKey
	dirs    map[groupKey]bool // groups that name a claimed directory
	wasted  map[string]bool   // paths with wasted copies
	claimed map[string]bool   // of those, the ones a finding holds
}

type claim struct {
	rule int
	dir  string
}

// Find runs the rules over an analysed image and returns its findings,
// ordered by severity, then bytes.
func (s *Set) Find(r *report.Report, img *image.Image) []report.Finding {
	f := &finder{s: s, t: r.Tree, groups: map[groupKey]*group{}, dirs: map[groupKey]bool{}, wasted: map[string]bool{}, claimed: map[string]bool{}}
	for _, w := range r.Tree.Waste() {
		f.wasted[w.Path] = true
	}
	f.walk(0, claim{rule: len(s.rules)})
	f.deletedSecrets()
	copies := f.copyFiles(r.Layers)

	out := []report.Finding{} // never null in the JSON report
	hasCompiler := false
	for _, k := range f.order {
		if s.rules[k.rule].Category == Toolchain {
			hasCompiler = true
		}
	}
	vcsLayers := f.mergeVCS(r.Tree.Waste())
	for _, k := range f.order {
		g := f.groups[k]
		rule := s.rules[k.rule]
		if g.files == 0 || (rule.Category == DevFiles && hasCompiler) || rule.ID == IDJDK {
			continue
		}
		fd := f.finding(g, r.Layers)
		switch {
		case rule.ID == IDBuildFiles:
			fd.Advice = buildFilesAdvice(r.Layers, g.layer, hasCompiler)
		case len(vcsLayers[k]) > 1:
			fd.Message += " (layers " + joinInts(vcsLayers[k]) + ")"
		}
		out = append(out, fd)
	}
	out = append(out, f.jdk(r.Layers)...)
	out = append(out, f.hostNodeModules(r.Layers, copies)...)
	out = append(out, f.waste(r)...)
	out = append(out, s.configFindings(r, img)...)
	out = append(out, f.userFindings(r, img)...)
	out = append(out, f.installAfterCopy(r.Layers, copies)...)
	slices.SortStableFunc(out, compareFindings)
	return out
}

func compareFindings(a, b report.Finding) int {
	return cmp.Or(
		cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]),
		cmp.Compare(b.Bytes, a.Bytes),
		cmp.Compare(a.Layer, b.Layer),
		cmp.Compare(a.Rule, b.Rule),
		slices.Compare(a.Paths, b.Paths),
	)
}

// walk classifies the final image's entries under n. Inside a directory a
// rule claimed, only the rules before it in table order may take a path.
func (f *finder) walk(n tree.NodeID, c claim) {
	for _, k := range f.t.Children(n) {
		m, layer, ok := f.t.Final(k)
		if !ok {
			continue
		}
		p := f.t.Path(k)
		isDir := m.Kind == tree.KindDir
		rule, pat := f.match(p, &m, c.rule)
		switch {
		case rule >= 0 && f.s.rules[rule].pats[pat].dir:
			f.walk(k, claim{rule: rule, dir: p})
			continue
		case rule >= 0:
			dir := topDir(p)
			if !f.s.rules[rule].pats[pat].anyDepth {
				dir = tree.Dir(p) // an anchored pattern names its own directory
			}
			f.add(rule, layer, dir, false, p, m.Size)
		case c.dir != "" && !isDir:
			f.add(c.rule, layer, c.dir, true, p, m.Size)
		}
		if isDir {
			f.walk(k, c)
		}
	}
}

func (f *finder) add(rule, layer int, dir string, isClaim bool, p string, size int64) {
	k := groupKey{rule, layer, dir}
	g := f.groups[k]
	if g == nil {
		g = &group{rule: rule, layer: layer, dir: dir}
		f.groups[k] = g
		f.order = append(f.order, k)
		f.dirs[k] = isClaim
	}
	g.add(p, size)
	if f.wasted[p] {
		f.claimed[p] = true
	}
}

// match returns the first rule before limit, in table order, that takes
// path p, and which of its patterns did; -1 when none does.
func (f *finder) match(p string, m *tree.Meta, limit int) (int, int) {
	best, bestPat := -1, -1
	try := func(refs []ref) {
		for _, r := range refs {
			if r.rule >= limit || (best >= 0 && r.rule >= best) {
				continue
			}
			rule := &f.s.rules[r.rule]
			pat := &rule.pats[r.pat]
			if pat.dir != (m.Kind == tree.KindDir) {
				continue
			}
			if rule.Content != 0 && (m.Kind != tree.KindFile || m.Flags&rule.Content == 0) {
				continue
			}
			if rule.ID == IDBuildFiles && m.Size < tinyFile && tree.Base(p) == ".dockerignore" {
				continue // a few lines of .dockerignore are not worth a warning
			}
			if !pat.match(p) || rule.excepted(p) || !f.sourceOK(rule, p) {
				continue
			}
			best, bestPat = r.rule, r.pat
		}
	}
	base := tree.Base(p)
	try(f.s.byBase[base])
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		try(f.s.byExt[base[i:]])
	}
	try(f.s.byParent[tree.Dir(p)])
	try(f.s.generic)
	return best, bestPat
}

// tinyFile is the size below which a .dockerignore is not worth a finding.
const tinyFile = 1024

// mergeVCS makes one finding of a version-control folder that several
// layers touched (a later layer rewriting .git/index): the first layer's
// group takes the others in, and the layers are returned by its key.
func (f *finder) mergeVCS(waste []tree.Waste) map[groupKey][]int {
	type folder struct {
		rule int
		dir  string
	}
	firsts := map[folder]groupKey{}
	layers := map[groupKey][]int{}
	for _, k := range f.order {
		if f.s.rules[k.rule].Category != VCS || !f.dirs[k] {
			continue
		}
		fk := folder{k.rule, k.dir}
		first, ok := firsts[fk]
		if !ok {
			firsts[fk] = k
			layers[k] = []int{k.layer}
			continue
		}
		g, into := f.groups[k], f.groups[first]
		into.bytes += g.bytes
		into.files += g.files
		into.top = append(into.top, g.top...)
		g.files = 0 // merged: no finding of its own
		layers[first] = append(layers[first], k.layer)
	}
	// The layers whose copies a later one replaced touched it too.
	for fk, k := range firsts {
		for _, w := range waste {
			if strings.HasPrefix(w.Path, fk.dir+"/") {
				for _, ev := range w.Events {
					if !slices.Contains(layers[k], ev.Layer) {
						layers[k] = append(layers[k], ev.Layer)
					}
				}
			}
		}
		slices.Sort(layers[k])
	}
	return layers
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

func (r *compiled) excepted(p string) bool {
	for i := range r.except {
		e := &r.except[i]
		if (e.dir && e.under(tree.Dir(p))) || (!e.dir && e.match(p)) {
			return true
		}
	}
	return false
}

// sourceOK applies the one rule a pattern cannot say: TypeScript is a
// leftover only beside the JavaScript compiled from it.
func (f *finder) sourceOK(r *compiled, p string) bool {
	if r.ID != IDSourceCode || !strings.HasSuffix(p, ".ts") {
		return true
	}
	js, ok := f.t.Lookup(strings.TrimSuffix(p, ".ts") + ".js")
	if !ok {
		return false
	}
	_, _, exists := f.t.Final(js)
	return exists
}

// topDir is the directory a file finding names: the top directory of the
// app that holds it (/src, /app, /usr/local/bin, /home/me/proj).
func topDir(p string) string {
	d := tree.Dir(p)
	segs := strings.Split(d, "/")
	n := 1
	switch segs[0] {
	case "usr", "opt", "home", "srv", "var", "root", "workspace":
		n = 2
		if len(segs) > 1 && (segs[0] == "home" || (segs[0] == "usr" && segs[1] == "local")) {
			n = 3
		}
	}
	if d == "" {
		return ""
	}
	return strings.Join(segs[:min(n, len(segs))], "/")
}

// deletedSecrets reports secrets in the copies a later layer removed or
// replaced: they still ship, in the layer that holds them.
func (f *finder) deletedSecrets() {
	for n := tree.NodeID(1); int(n) < f.t.Len(); n++ {
		p := "" // built on demand: the tree keeps names, not paths
		f.t.Older(n, func(layer int, m *tree.Meta) bool {
			if m.Kind != tree.KindFile || m.Flags == 0 {
				return true
			}
			if p == "" {
				p = f.t.Path(n)
			}
			for i := range f.s.rules {
				r := &f.s.rules[i]
				if r.Category != Secret || r.Content == 0 || m.Flags&r.Content == 0 || r.excepted(p) {
					continue
				}
				if slices.ContainsFunc(r.pats, func(pat pattern) bool { return !pat.dir && pat.match(p) }) {
					f.add(i, layer, p, false, p, m.Size)
					break
				}
			}
			return true
		})
	}
}

func (f *finder) finding(g *group, layers []report.Layer) report.Finding {
	r := &f.s.rules[g.rule]
	slices.SortFunc(g.top, func(a, b pathBytes) int { return cmp.Or(cmp.Compare(b.bytes, a.bytes), cmp.Compare(a.path, b.path)) })
	var paths []string
	if g.dir != "" && (f.dirs[groupKey{g.rule, g.layer, g.dir}] || r.Category != Secret && g.files > maxPaths) {
		paths = []string{"/" + g.dir}
	} else {
		for _, pb := range g.top[:min(len(g.top), maxPaths)] {
			paths = append(paths, "/"+pb.path)
		}
	}
	where := "/" + g.dir
	msg := fmt.Sprintf("%s: %s in %s", r.What, files(g.files, g.bytes), where)
	if r.Category == Secret {
		msg = fmt.Sprintf("%s: %s", r.What, "/"+g.top[0].path)
		n, _ := f.t.Lookup(g.top[0].path)
		if _, last, ok := f.t.Final(n); !ok || g.layer < last {
			msg += fmt.Sprintf(" (removed by a later layer, but still shipped in layer %d)", g.layer)
		}
	}
	return report.Finding{
		Rule: r.ID, Category: r.Category, Severity: r.Severity, Layer: g.layer, CreatedBy: createdBy(layers, g.layer),
		Paths: paths, Bytes: g.bytes, Message: msg, Advice: r.Advice,
	}
}

func createdBy(layers []report.Layer, i int) string {
	if i >= 0 && i < len(layers) {
		return layers[i].CreatedBy
	}
	return ""
}

func files(n int, bytes int64) string {
	if n == 1 {
		return fmt.Sprintf("1 file, %s", humanize.Bytes(uint64(bytes)))
	}
	return fmt.Sprintf("%s files, %s", humanize.Comma(int64(n)), humanize.Bytes(uint64(bytes)))
}

// waste turns the copies later layers hid or replaced into findings: one
// per kind of waste, layer that shipped the bytes, and layer that hid them.
func (f *finder) waste(r *report.Report) []report.Finding {
	type key struct {
		rule      string
		layer, by int
	}
	groups := map[key]*group{}
	var order []key
	var unavoidable int64
	pkg := key{rule: IDPackageDB, layer: -1}
	var pkgBy []int
	for _, w := range r.Tree.Waste() {
		if packageDB(w.Path) {
			for _, ev := range w.Events {
				unavoidable += ev.Bytes
				if !slices.Contains(pkgBy, ev.By) {
					pkgBy = append(pkgBy, ev.By)
				}
			}
		}
		if f.claimed[w.Path] {
			continue
		}
		for _, ev := range w.Events {
			k := key{IDOverwritten, ev.Layer, ev.By}
			switch {
			case packageDB(w.Path):
				k = pkg
			case ev.SameContent && ev.SameMeta && ev.By != ev.Layer && isCopy(createdBy(r.Layers, ev.By)):
				continue // a COPY of the lock files first, then of all: expected
			case ev.SameContent && ev.SameMeta:
				k.rule = IDRewrittenUnchanged
			case ev.SameContent:
				k.rule = IDMetadataOnly
			case ev.Removed:
				k.rule = IDRemovedLater
			}
			if f.s.ruleIndex(k.rule) < 0 {
				continue
			}
			g := groups[k]
			if g == nil {
				g = &group{}
				groups[k] = g
				order = append(order, k)
			}
			g.add(w.Path, ev.Bytes)
		}
	}
	r.Summary.UnavoidableWastedBytes = unavoidable
	slices.Sort(pkgBy)
	var out []report.Finding
	for _, k := range order {
		g := groups[k]
		rule := &f.s.rules[f.s.ruleIndex(k.rule)]
		slices.SortFunc(g.top, func(a, b pathBytes) int { return cmp.Or(cmp.Compare(b.bytes, a.bytes), cmp.Compare(a.path, b.path)) })
		var paths []string
		for _, pb := range g.top[:min(len(g.top), maxPaths)] {
			paths = append(paths, "/"+pb.path)
		}
		by := fmt.Sprintf("layer %d (%s)", k.by, oneLineCmd(createdBy(r.Layers, k.by)))
		var msg string
		switch k.rule {
		case IDPackageDB:
			k.layer = pkgBy[0]
			msg = fmt.Sprintf("package database updates: %s rewritten by layer %s; no Dockerfile can avoid them", files(g.files, g.bytes), joinInts(pkgBy))
		case IDRewrittenUnchanged:
			msg = fmt.Sprintf("%s shipped here and written again by %s with the same bytes, mode and owner", files(g.files, g.bytes), by)
		case IDMetadataOnly:
			msg = fmt.Sprintf("%s shipped here and again, unchanged but for mode or owner, by %s", files(g.files, g.bytes), by)
		case IDRemovedLater:
			msg = fmt.Sprintf("%s shipped here and removed by %s: they still ship", files(g.files, g.bytes), by)
		default:
			msg = fmt.Sprintf("%s shipped here and replaced by %s", files(g.files, g.bytes), by)
		}
		if k.by == k.layer && k.rule != IDPackageDB {
			msg = fmt.Sprintf("%s written twice in this layer: the first copy still ships", files(g.files, g.bytes))
		}
		sev := rule.Severity
		if g.bytes < 1_000_000 && sev == Warning {
			sev = Info
		}
		out = append(out, report.Finding{
			Rule: rule.ID, Category: Waste, Severity: sev, Layer: k.layer, CreatedBy: createdBy(r.Layers, k.layer),
			Paths: paths, Bytes: g.bytes, Message: msg, Advice: rule.Advice,
		})
	}
	return out
}

func oneLineCmd(s string) string {
	if s == "" {
		return "no instruction recorded"
	}
	return report.Truncate(s, 60)
}

func (s *Set) ruleIndex(id string) int {
	return slices.IndexFunc(s.rules, func(c compiled) bool { return c.ID == id })
}

// configFindings checks the image config and history for secrets (the
// user and the order of COPY and install: see build.go).
func (s *Set) configFindings(r *report.Report, img *image.Image) []report.Finding {
	var out []report.Finding
	add := func(id string, layer int, cmdLine string, msg string, bytes int64) {
		i := s.ruleIndex(id)
		if i < 0 {
			return
		}
		rule := &s.rules[i]
		out = append(out, report.Finding{Rule: id, Category: rule.Category, Severity: rule.Severity, Layer: layer,
			CreatedBy: cmdLine, Paths: []string{}, Bytes: bytes, Message: msg, Advice: rule.Advice})
	}
	last := len(r.Layers) - 1

	// Secrets in history (build arguments, ENV, ARG and LABEL values,
	// assignments and tokens anywhere in an instruction or a comment), in
	// the config's Env and in its labels. One finding per name, or per
	// kind of token and place; never the value.
	const inHistory, inConfig = "a secret in the image config or build history: ", "a secret in the image config: "
	seen := map[string]bool{}
	build := false // the entry or the config flag finds is the build's, not the base's
	flag := func(key string, layer int, cmdLine, msg string) {
		if !seen[key] {
			seen[key] = true
			n := len(out)
			if add(IDSecretEnv, layer, cmdLine, msg, 0); len(out) > n {
				out[n].Build = build
			}
		}
	}
	hist := img.Config.History
	baseHistory := 0
	if r.Summary.Base != nil {
		baseHistory = r.Summary.Base.History
	}
	entries := historyEntries(hist, r.Summary.BaseLayers, baseHistory)
	for i, h := range hist {
		e := &entries[i]
		build = e.build
		_, inComment := secret.Redact(h.Comment)
		for k, f := range e.found {
			l := e.at(k)
			switch {
			case f.Name != "" && f.Kind != "":
				flag("name "+f.Name, l, e.clean, inHistory+fmt.Sprintf("%s holds %s, recorded in the build history", f.Name, f.Kind))
			case f.Name != "":
				flag("name "+f.Name, l, e.clean, inHistory+fmt.Sprintf("%s is recorded in the build history with its value", f.Name))
			default:
				flag(fmt.Sprintf("%d %s", l, f.Kind), l, e.clean, inHistory+fmt.Sprintf("%s is recorded in the build history", f.Kind))
			}
		}
		for _, f := range inComment {
			l := e.at(-1)
			flag(fmt.Sprintf("%d comment %s", l, f.Kind+f.Name), l, e.clean, inHistory+fmt.Sprintf("%s is recorded in a history comment", f.What()))
		}
	}
	build = true // the final config is the image's, whoever set it first
	for _, kv := range img.Config.Env {
		name, value, _ := strings.Cut(kv, "=")
		if secret.Value(name, value) {
			flag("name "+name, max(last, 0), "ENV "+name+"="+secret.Redacted, inConfig+fmt.Sprintf("ENV %s is set for anyone who pulls the image", name))
		} else if _, found := secret.Redact(value); len(found) > 0 {
			flag("name "+name, max(last, 0), "ENV "+name+"="+secret.Redacted, inConfig+fmt.Sprintf("ENV %s holds %s, set for anyone who pulls the image", name, found[0].What()))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(img.Config.Labels)) {
		if _, found := secret.Redact(img.Config.Labels[key]); len(found) > 0 {
			flag("label "+key, max(last, 0), "", inConfig+fmt.Sprintf("label %q holds %s", report.Truncate(key, 60), found[0].What()))
		}
	}

	return out
}

// buildStart is the index of the first history entry that is the build's
// when the image's first baseLayers layers are a base image's with
// baseHistory entries, -1 when no base is known or the history does not
// make its layers. The base's entries end with the one that made its last
// layer, and the entries that make no layer after it as far as
// baseHistory counts (a base that ends with CMD or ENV); when baseHistory
// is not known, or does not fit, the build starts right after that layer's
// entry.
func buildStart(hist []image.History, baseLayers, baseHistory int) int {
	if baseLayers <= 0 {
		return -1
	}
	made := 0
	for i, h := range hist {
		if h.EmptyLayer {
			continue
		}
		if made++; made < baseLayers {
			continue
		}
		cut := i + 1
		if baseHistory > cut && baseHistory <= len(hist) && !slices.ContainsFunc(hist[cut:baseHistory], func(h image.History) bool { return !h.EmptyLayer }) {
			cut = baseHistory
		}
		return cut
	}
	return -1
}

// historyEntry is a history entry as the secret findings see it: its
// instruction with secrets hidden, what was hidden, and the layer each
// finding is attributed to.
type historyEntry struct {
	clean string
	found []secret.Found
	layer int   // the layer the entry made, or the one before it
	arg   []int // for an ARG, the layer of each of found
	build bool  // the entry follows the base image's own (buildStart)
}

// at is the layer finding k (-1: the entry's comment) is attributed to.
func (e *historyEntry) at(k int) int {
	if e.arg != nil {
		return e.arg[max(k, 0)]
	}
	return e.layer
}

// historyEntries reads the history for the secret findings. An ARG makes
// no layer: its value is recorded by the RUNs built after it ("RUN |1
// DB_PASSWORD=… make"), so a secret in it is attributed to the first later
// layer whose instruction records that name, else to the next layer: the
// instruction that used it, whose Dockerfile line --dockerfile names, not
// the layer before the ARG. Other entries that make no layer (ENV, LABEL)
// keep the layer before them, but for those that follow the base image's
// entries (baseLayers layers, baseHistory entries: 0 when not known): they
// are the build's, so they go to the build's first layer, not the base's
// last.
func historyEntries(hist []image.History, baseLayers, baseHistory int) []historyEntry {
	entries := make([]historyEntry, len(hist))
	layer := -1
	for i, h := range hist {
		if !h.EmptyLayer {
			layer++
		}
		clean, found := secret.Instruction(h.CreatedBy)
		entries[i] = historyEntry{clean: clean, found: found, layer: max(layer, 0)}
	}
	if cut := buildStart(hist, baseLayers, baseHistory); cut >= 0 {
		for i := cut; i < len(hist); i++ {
			entries[i].build = true
			if hist[i].EmptyLayer && entries[i].layer < baseLayers && baseLayers <= layer {
				entries[i].layer = baseLayers // the build's first layer
			}
		}
	}
	next := -1                   // the layer of the next entry that makes one
	recorded := map[string]int{} // a name, and the first later layer that records it
	for i := len(hist) - 1; i >= 0; i-- {
		e := &entries[i]
		if !hist[i].EmptyLayer {
			next = e.layer
			for _, f := range e.found {
				if f.Name != "" {
					recorded[f.Name] = e.layer
				}
			}
			continue
		}
		if !strings.HasPrefix(e.clean, "ARG ") {
			continue
		}
		e.arg = make([]int, max(len(e.found), 1))
		for k := range e.arg {
			e.arg[k] = e.layer // no later layer: the last
			if next >= 0 {
				e.arg[k] = next
			}
			if k < len(e.found) {
				if l, ok := recorded[e.found[k].Name]; ok && e.found[k].Name != "" {
					e.arg[k] = l
				}
			}
		}
	}
	return entries
}
