package rules

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/tree"
)

// What the build's instructions did: the COPY layers' contents, the
// installs after them, the user the image runs as.

func isCopy(createdBy string) bool {
	return strings.HasPrefix(createdBy, "COPY ") || strings.HasPrefix(createdBy, "ADD ")
}

// contextRoot is a COPY whose source is the build context's root, as
// BuildKit records it. The legacy builder records any directory as
// "dir:<hash> in DEST": that form is judged by what the layer holds.
var contextRoot = regexp.MustCompile(`^(COPY|ADD)( --\S+)* (\.|\./) `)

// manifests are the files a dependency install reads.
var manifests = map[string]bool{
	"package.json": true, "package-lock.json": true, "npm-shrinkwrap.json": true, "yarn.lock": true, "pnpm-lock.yaml": true,
	"go.mod": true, "go.sum": true, "requirements.txt": true, "Pipfile": true, "Pipfile.lock": true, "pyproject.toml": true, "poetry.lock": true,
	"Gemfile": true, "Gemfile.lock": true, "composer.json": true, "composer.lock": true, "Cargo.toml": true, "Cargo.lock": true,
	"pom.xml": true, "build.gradle": true, "build.gradle.kts": true, "settings.gradle": true, "settings.gradle.kts": true,
}

// installer is a dependency install, and how to order it.
type installer struct {
	name   string
	re     *regexp.Regexp
	advice string
}

const thenCopy = ", then COPY . ., so a source change keeps the install layer cached"

var installers = []installer{
	{"npm", regexp.MustCompile(`\b(npm (ci|install|i)\b|yarn( install)?( +--?[\w-]+)* *($|&&|;|\|)|pnpm (install|i)\b)`),
		"copy the lock files first (COPY package.json package-lock.json ./ then RUN npm ci)" + thenCopy},
	{"Go", regexp.MustCompile(`\bgo (mod download|get|install)\b`),
		"copy the module files first (COPY go.mod go.sum ./ then RUN go mod download)" + thenCopy},
	{"pip", regexp.MustCompile(`\b(pip3?|python3? -m pip) install\b|\b(poetry|pipenv) install\b`),
		"copy the requirements first (COPY requirements.txt ./ then RUN pip install -r requirements.txt)" + thenCopy},
	{"Bundler", regexp.MustCompile(`\bbundle install\b`),
		"copy the Gemfile first (COPY Gemfile Gemfile.lock ./ then RUN bundle install)" + thenCopy},
	{"Composer", regexp.MustCompile(`\bcomposer install\b`),
		"copy the Composer files first (COPY composer.json composer.lock ./ then RUN composer install --no-scripts)" + thenCopy},
	{"Cargo", regexp.MustCompile(`\bcargo (fetch|build|install)\b`),
		"copy the Cargo files first (COPY Cargo.toml Cargo.lock ./ then RUN cargo fetch)" + thenCopy},
	{"Maven", regexp.MustCompile(`(^|[\s;&|/])mvnw?\b`),
		"copy the POM first (COPY pom.xml ./ then RUN mvn dependency:go-offline)" + thenCopy},
	{"Gradle", regexp.MustCompile(`(^|[\s;&|/])gradlew?\b`),
		"copy the build scripts first (COPY build.gradle settings.gradle ./ then RUN gradle dependencies)" + thenCopy},
	{"system package", regexp.MustCompile(`\bapt(-get)? (-\S+ )*install\b|\bapk (-\S+ )*add\b|\b(dnf|yum|microdnf) (-\S+ )*install\b`),
		"install system packages before the COPY of the source: they do not depend on it, and their layer stays cached"},
}

func findInstaller(createdBy string) *installer {
	if !strings.HasPrefix(createdBy, "RUN ") {
		return nil
	}
	for i := range installers {
		if installers[i].re.MatchString(createdBy) {
			return &installers[i]
		}
	}
	return nil
}

// copyFiles lists, for each COPY or ADD layer, the regular files it wrote.
func (f *finder) copyFiles(layers []report.Layer) map[int][]tree.NodeID {
	out := map[int][]tree.NodeID{}
	isCopyLayer := make([]bool, len(layers))
	found := false
	for i, l := range layers {
		isCopyLayer[i] = isCopy(l.CreatedBy)
		found = found || isCopyLayer[i]
	}
	if !found {
		return out
	}
	for n := tree.NodeID(1); int(n) < f.t.Len(); n++ {
		f.t.Versions(n, func(layer int, m tree.Meta) {
			if layer < len(isCopyLayer) && isCopyLayer[layer] && m.Kind == tree.KindFile {
				out[layer] = append(out[layer], n)
			}
		})
	}
	return out
}

// wholeContext reports a COPY that brought the build context in: its
// source is the context's root, or (whatever the history says) it holds
// a dependency manifest beside other files. A COPY of the lock files
// alone, or of a sub-folder without one, is the order done right.
func (f *finder) wholeContext(createdBy string, files []tree.NodeID) bool {
	if strings.Contains(createdBy, " --from=") {
		return false
	}
	if contextRoot.MatchString(createdBy) {
		return true
	}
	manifest, other := false, false
	for _, n := range files {
		if manifests[f.t.Name(n)] {
			manifest = true
		} else {
			other = true
		}
	}
	return manifest && other
}

// installAfterCopy finds the first dependency install that follows a COPY
// of the whole build context.
func (f *finder) installAfterCopy(layers []report.Layer, copies map[int][]tree.NodeID) []report.Finding {
	i := f.s.ruleIndex(IDInstallAfterCopy)
	if i < 0 {
		return nil
	}
	copied := -1
	for _, l := range layers {
		if isCopy(l.CreatedBy) {
			if f.wholeContext(l.CreatedBy, copies[l.Index]) {
				copied = l.Index
			}
			continue
		}
		in := findInstaller(l.CreatedBy)
		if copied < 0 || in == nil {
			continue
		}
		rule := &f.s.rules[i]
		return []report.Finding{{Rule: rule.ID, Category: rule.Category, Severity: rule.Severity, Layer: l.Index, CreatedBy: l.CreatedBy,
			Paths: []string{}, Bytes: l.Bytes, Advice: in.advice,
			Message: fmt.Sprintf("this %s install follows the COPY of the build context in layer %d: every source change re-runs it and re-ships %s", in.name, copied, humanize.Bytes(uint64(l.Bytes)))}}
	}
	return nil
}

// hostNodeModules finds node_modules copied in from the build context
// beside a package.json that a later layer installs anyway. Its files are
// claimed: the install's replacing them is this finding, not waste.
func (f *finder) hostNodeModules(layers []report.Layer, copies map[int][]tree.NodeID) []report.Finding {
	i := f.s.ruleIndex(IDContextJunk)
	if i < 0 {
		return nil
	}
	var out []report.Finding
	for _, L := range slices.Sorted(maps.Keys(copies)) {
		installs := -1
		for _, l := range layers[L+1:] {
			if in := findInstaller(l.CreatedBy); in != nil && in.name == "npm" {
				installs = l.Index
				break
			}
		}
		if installs < 0 {
			continue
		}
		// The layer's paths, built once and sorted, so the files under a
		// node_modules are one range: a package.json in every package
		// costs a search each, not a pass over the layer.
		written := copies[L]
		type entry struct {
			path string
			node tree.NodeID
		}
		var paths []entry
		for _, n := range written {
			if f.t.Name(n) != "package.json" {
				continue
			}
			p := f.t.Path(n)
			// A package's own package.json: its node_modules is under
			// the one the app's package.json already judges.
			if strings.HasPrefix(p, "node_modules/") || strings.Contains(p, "/node_modules/") {
				continue
			}
			if paths == nil {
				paths = make([]entry, 0, len(written))
				for _, m := range written {
					paths = append(paths, entry{f.t.Path(m), m})
				}
				slices.SortFunc(paths, func(a, b entry) int { return strings.Compare(a.path, b.path) })
			}
			dir := tree.Dir(p)
			nm := "node_modules/"
			if dir != "" {
				nm = dir + "/" + nm
			}
			var bytes int64
			count := 0
			first, _ := slices.BinarySearchFunc(paths, nm, func(e entry, t string) int { return strings.Compare(e.path, t) })
			for _, e := range paths[first:] {
				if !strings.HasPrefix(e.path, nm) {
					break
				}
				meta, _ := f.t.At(e.node, L)
				bytes += meta.Size
				count++
				f.claimed[e.path] = true
			}
			if count == 0 {
				continue
			}
			rule := &f.s.rules[i]
			out = append(out, report.Finding{Rule: rule.ID, Category: rule.Category, Severity: rule.Severity, Layer: L, CreatedBy: createdBy(layers, L),
				Paths: []string{"/" + strings.TrimSuffix(nm, "/")}, Bytes: bytes, Advice: "add node_modules to .dockerignore: the image installs its own",
				Message: fmt.Sprintf("node_modules copied from the build context beside /%s/package.json (%s), which layer %d installs anyway", dir, files(count, bytes), installs)})
		}
	}
	return out
}

// userFindings judge the user the image runs as: root, or a name the
// final /etc/passwd does not define.
func (f *finder) userFindings(r *report.Report, img *image.Image) []report.Finding {
	last := max(len(r.Layers)-1, 0)
	var out []report.Finding
	add := func(id, cmdLine, msg, advice string) {
		i := f.s.ruleIndex(id)
		if i < 0 {
			return
		}
		rule := &f.s.rules[i]
		if advice == "" {
			advice = rule.Advice
		}
		out = append(out, report.Finding{Rule: id, Category: rule.Category, Severity: rule.Severity, Layer: last,
			CreatedBy: cmdLine, Paths: []string{}, Message: msg, Advice: advice})
	}
	switch u := img.Config.User; {
	case u == "":
		add(IDRunAsRoot, "", "the image runs as root: no USER instruction", rootAdvice(f.t))
	case u == "root" || u == "0" || strings.HasPrefix(u, "root:") || strings.HasPrefix(u, "0:"):
		add(IDRunAsRoot, "USER "+u, "the image runs as root: USER "+u, rootAdvice(f.t))
	default:
		if msg := undefinedUser(f.t, u); msg != "" {
			add(IDUserUndefined, "USER "+u, msg+", so docker run fails (unable to find user)", "")
		}
	}
	return out
}

// jdkParts are what a JDK holds over a JRE, under its home.
var jdkParts = []string{"jmods", "include", "lib/src.zip", "lib/ct.sym", "bin/javac", "bin/jar", "bin/jarsigner", "bin/javadoc", "bin/javap",
	"bin/jdeps", "bin/jdeprscan", "bin/jlink", "bin/jmod", "bin/jshell", "bin/jhsdb", "bin/jimage", "bin/jpackage", "bin/serialver", "bin/rmic"}

// jdk turns the jdk rule's matches (javac) into one finding that counts
// every JDK-only part of each JDK home: jmods alone is most of it.
func (f *finder) jdk(layers []report.Layer) []report.Finding {
	ri := f.s.ruleIndex(IDJDK)
	if ri < 0 {
		return nil
	}
	var first *group
	var homes []string
	for _, k := range f.order {
		if k.rule != ri {
			continue
		}
		g := f.groups[k]
		if first == nil {
			first = g
		}
		for _, pb := range g.top {
			if h := tree.Dir(tree.Dir(pb.path)); !slices.Contains(homes, h) {
				homes = append(homes, h)
			}
		}
	}
	if first == nil {
		return nil
	}
	var parts []pathBytes
	var total int64
	count := 0
	for _, h := range homes {
		for _, part := range jdkParts {
			p := part
			if h != "" {
				p = h + "/" + part
			}
			n, ok := f.t.Lookup(p)
			if !ok {
				continue
			}
			b, c := f.finalBytes(n)
			if c > 0 {
				parts = append(parts, pathBytes{p, b})
				total += b
				count += c
			}
		}
	}
	slices.SortFunc(parts, func(a, b pathBytes) int { return cmp.Or(cmp.Compare(b.bytes, a.bytes), cmp.Compare(a.path, b.path)) })
	var paths []string
	for _, pb := range parts[:min(len(parts), maxPaths)] {
		paths = append(paths, "/"+pb.path)
	}
	rule := &f.s.rules[ri]
	return []report.Finding{{Rule: rule.ID, Category: rule.Category, Severity: rule.Severity, Layer: first.layer, CreatedBy: createdBy(layers, first.layer),
		Paths: paths, Bytes: total, Advice: rule.Advice,
		Message: fmt.Sprintf("%s: %s in /%s", rule.What, files(count, total), strings.Join(homes, ", /"))}}
}

// finalBytes sums the regular files at or under n in the final image.
func (f *finder) finalBytes(n tree.NodeID) (int64, int) {
	m, _, ok := f.t.Final(n)
	switch {
	case !ok:
		return 0, 0
	case m.Kind == tree.KindFile:
		return m.Size, 1
	case m.Kind != tree.KindDir:
		return 0, 0
	}
	var b int64
	c := 0
	for _, k := range f.t.Children(n) {
		kb, kc := f.finalBytes(k)
		b, c = b+kb, c+kc
	}
	return b, c
}

// buildStep is a RUN that builds from source.
var buildStep = regexp.MustCompile(`\bgo (build|install)\b|\bmake\b|\bcargo build\b|(^|[\s;&|/])(mvnw?|gradlew?)\b|\bnpm run build\b|\btsc\b|\bdotnet (build|publish)\b|\bjavac\b|\bgcc\b|\bcmake\b`)

// buildFilesAdvice follows the instruction that put build files there: a
// RUN made them, or the stage builds from them (single-stage): a builder
// stage; a COPY into a final stage that builds nothing: .dockerignore.
func buildFilesAdvice(layers []report.Layer, layer int, hasCompiler bool) string {
	cb := createdBy(layers, layer)
	switch {
	case strings.HasPrefix(cb, "RUN "):
		return "a RUN made these files here (go mod init, git clone, …): run it in a builder stage (FROM … AS build) and COPY --from=build only the artifacts into the final stage"
	case hasCompiler:
		return "this image builds from its source (single stage): build in a builder stage (FROM … AS build) and COPY --from=build only the artifacts into the final stage"
	}
	for _, l := range layers[min(layer+1, len(layers)):] {
		if strings.HasPrefix(l.CreatedBy, "RUN ") && buildStep.MatchString(l.CreatedBy) {
			return "this stage builds from these files: build in a builder stage (FROM … AS build) and COPY --from=build only the artifacts into the final stage"
		}
	}
	return adviceIgnore
}

// packageDB reports the paths package managers rewrite on every install:
// the waste there is the price of installing anything on a base.
func packageDB(p string) bool {
	for _, d := range []string{"var/lib/dpkg/", "var/cache/debconf/", "var/log/apt/", "lib/apk/db/", "var/lib/rpm/", "usr/lib/sysimage/rpm/",
		"var/lib/dnf/", "var/lib/yum/", "var/cache/ldconfig/", "etc/alternatives/", "var/lib/alternatives/"} {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	switch p {
	case "var/log/dpkg.log", "var/log/alternatives.log", "var/lib/apt/extended_states", "etc/ld.so.cache", "etc/apk/world",
		"var/log/dnf.log", "var/log/dnf.rpm.log", "var/log/dnf.librepo.log", "var/log/hawkey.log", "var/log/yum.log":
		return true
	}
	return false
}
