// Package rules finds leftovers: what a later build stage should have
// dropped, which layer and instruction put it there, what it costs, and the
// fix. The rule set is the table below: data a person can read at a glance,
// and extend or switch off in .layerscope.yaml.
package rules

import (
	"strings"

	"github.com/layerscope/layerscope/report"
)

// The IDs of the rules that code treats specially: the table and the
// special cases name them through these constants.
const (
	IDInstallAfterCopy   = "install-after-copy"
	IDContextJunk        = "context-junk"
	IDRunAsRoot          = "run-as-root"
	IDUserUndefined      = "user-undefined"
	IDJDK                = "jdk"
	IDBuildFiles         = "build-files"
	IDSourceCode         = "source-code"
	IDPackageDB          = "package-db"
	IDRewrittenUnchanged = "rewritten-unchanged"
	IDMetadataOnly       = "metadata-only"
	IDRemovedLater       = "removed-later"
	IDSecretEnv          = "secret-env"
	IDOverwritten        = "overwritten"
)

// Severity and Category are the report's types (a finding carries them,
// and this package builds on report); the table names their values below.
type (
	Severity = report.Severity
	Category = report.Category
)

// Categories, in the order a path is claimed: a path belongs to the first
// rule that matches it, and to one finding at most.
const (
	Secret       = report.CategorySecret
	VCS          = report.CategoryVCS
	Toolchain    = report.CategoryToolchain
	PackageCache = report.CategoryPackageCache
	BuildCache   = report.CategoryBuildCache
	DevFiles     = report.CategoryDevFiles
	Source       = report.CategorySource
	Waste        = report.CategoryWaste
	Config       = report.CategoryConfig
)

// Categories lists them in table order.
var Categories = []Category{Secret, VCS, Toolchain, PackageCache, BuildCache, DevFiles, Source, Waste, Config}

// categoryList names the categories for a message: "secret, vcs, …".
func categoryList() string {
	names := make([]string, len(Categories))
	for i, c := range Categories {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// Severities, most severe first.
const (
	Error   = report.SeverityError
	Warning = report.SeverityWarning
	Info    = report.SeverityInfo
)

var severityRank = map[Severity]int{Error: 0, Warning: 1, Info: 2}

// Rule is one row of the table.
//
// Paths are patterns over paths in the image, without the leading "/". A
// pattern is segments separated by "/", each a glob (*, ?, [...]); a
// leading "**/" lets it match at any depth. A trailing "/" matches a
// directory and claims everything under it, and the finding names that
// directory; otherwise it matches files, and the finding names the top
// directory that holds them.
type Rule struct {
	ID       string
	Category Category
	Severity Severity
	Paths    []string
	Except   []string // paths (same syntax) the rule never claims
	Content  Flags    // the file's content must have shown one of these
	What     string   // what a match is, for the message
	Advice   string
}

// Shared advice, in Dockerfile terms.
const (
	adviceBuilder = "build in a builder stage (FROM … AS build) and COPY --from=build only the artifacts into the final stage"
	adviceIgnore  = "add it to .dockerignore so that COPY . never sends it, or copy only what the image needs"
	adviceClean   = "clean up in the same RUN that made it (e.g. apt-get install … && rm -rf /var/lib/apt/lists/*), pass --no-cache, or use RUN --mount=type=cache"
	adviceSecret  = "never COPY or ADD credentials: a later rm leaves them in the layer. Use RUN --mount=type=secret, or pass them at run time; rotate this one"
	adviceCache   = "use RUN --mount=type=cache for the cache, or build in a builder stage and COPY --from only the output"
)

// Table is the built-in rule set. Paths under it are matched in the final
// image; secrets also in every layer, since a deleted file still ships.
var Table = []Rule{
	// secret
	{ID: "private-key", Category: Secret, Severity: Error, Paths: []string{"**/*"}, Content: FlagPrivateKey,
		Except: libraryTrees, What: "a private key (PEM PRIVATE KEY header)", Advice: adviceSecret},
	{ID: "credentials-file", Category: Secret, Severity: Error, Content: FlagCredential,
		Paths:  []string{"**/.aws/credentials", "**/.docker/config.json", "**/.npmrc", "**/.pypirc", "**/.netrc", "**/.git-credentials", "**/.env", "**/.env.*"},
		Except: libraryTrees, What: "a credentials file with a secret in it", Advice: adviceSecret},
	{ID: "known-token", Category: Secret, Severity: Error, Paths: []string{"**/*"}, Content: FlagToken,
		Except: libraryTrees, What: "a token of a known format (GitHub, GitLab, npm, AWS, Slack, Stripe, Google) in the first bytes of a file",
		Advice: adviceSecret + ". A Google API key in a web bundle (under a web server's root or in static/, public/, html/; a *.min.js, a page, a source map) is public by design and not reported: restrict it by referrer in the Google Cloud console"},

	// vcs
	{ID: "vcs-folder", Category: VCS, Severity: Warning, Paths: []string{"**/.git/", "**/.svn/", "**/.hg/"},
		What: "a version-control folder", Advice: adviceIgnore},

	// toolchain
	{ID: "go-toolchain", Category: Toolchain, Severity: Warning,
		Paths: []string{"usr/local/go/", "usr/lib/go/", "usr/lib/go-*/", "usr/share/go/", "usr/share/go-*/", "**/go/pkg/tool/", "**/sdk/go*/"},
		What:  "the Go toolchain", Advice: adviceBuilder},
	{ID: "c-compiler", Category: Toolchain, Severity: Warning,
		Paths: []string{"usr/lib/gcc/", "usr/libexec/gcc/", "usr/lib/gcc-cross/", "usr/bin/gcc", "usr/bin/gcc-*", "usr/bin/*-gcc", "usr/bin/*-gcc-*",
			"usr/bin/g++", "usr/bin/g++-*", "usr/bin/*-g++", "usr/bin/*-g++-*", "usr/bin/cc1*", "usr/bin/clang", "usr/bin/clang-*", "usr/bin/clang++", "usr/lib/llvm-*/",
			"usr/local/bin/gcc", "usr/local/bin/clang"},
		What: "a C/C++ compiler", Advice: adviceBuilder},
	{ID: IDJDK, Category: Toolchain, Severity: Warning, Paths: []string{"**/bin/javac"},
		What: "a JDK where a JRE would do (jmods, headers, compiler and tools, src.zip, ct.sym)", Advice: "run on a JRE image (e.g. eclipse-temurin:21-jre) and COPY --from=build only the jar"},
	{ID: "rust-toolchain", Category: Toolchain, Severity: Warning,
		Paths: []string{"**/.rustup/toolchains/", "**/.cargo/bin/", "usr/local/rustup/", "usr/local/cargo/bin/", "usr/bin/rustc", "usr/bin/cargo", "usr/lib/rustlib/"},
		What:  "the Rust toolchain", Advice: adviceBuilder},
	{ID: "build-tools", Category: Toolchain, Severity: Warning,
		Paths: []string{"usr/bin/make", "usr/bin/cmake", "usr/share/cmake-*/", "usr/bin/autoconf", "usr/bin/automake", "usr/share/autoconf/", "usr/share/automake-*/", "usr/bin/ninja", "usr/bin/ld", "usr/bin/ld.bfd", "usr/bin/ld.gold", "usr/bin/as",
			"usr/bin/git", "usr/local/bin/git", "usr/lib/git-core/", "usr/libexec/git-core/", "usr/share/git-core/", "usr/bin/protoc", "usr/local/bin/protoc", "usr/bin/protoc-*", "usr/local/bin/protoc-gen-*", "**/go/bin/protoc-gen-*"},
		What: "build tools (make, cmake, autotools, binutils, git, protoc)", Advice: adviceBuilder},
	{ID: "node-gyp", Category: Toolchain, Severity: Warning, Paths: []string{"**/.node-gyp/", "**/.cache/node-gyp/"},
		What: "node-gyp's headers and build toolchain", Advice: adviceBuilder},

	// package-cache
	{ID: "apt-cache", Category: PackageCache, Severity: Warning,
		Paths: []string{"var/lib/apt/lists/*", "var/cache/apt/archives/*.deb", "var/cache/apt/*.bin"},
		What:  "apt's package lists and downloaded packages", Advice: "end the same RUN with rm -rf /var/lib/apt/lists/* (and apt-get clean), or use RUN --mount=type=cache,target=/var/cache/apt"},
	{ID: "apk-cache", Category: PackageCache, Severity: Warning, Paths: []string{"var/cache/apk/*", "etc/apk/cache/*"},
		What: "apk's package cache", Advice: "use apk add --no-cache"},
	{ID: "dnf-cache", Category: PackageCache, Severity: Warning, Paths: []string{"var/cache/dnf/", "var/cache/yum/", "var/cache/zypp/"},
		What: "dnf/yum's package cache", Advice: "end the same RUN with dnf clean all (or yum clean all)"},
	{ID: "pip-cache", Category: PackageCache, Severity: Warning, Paths: []string{"**/.cache/pip/"},
		What: "pip's download cache", Advice: "use pip install --no-cache-dir, or RUN --mount=type=cache,target=/root/.cache/pip"},
	{ID: "npm-cache", Category: PackageCache, Severity: Warning,
		Paths: []string{"**/.npm/_cacache/", "**/.cache/yarn/", "usr/local/share/.cache/yarn/", "**/.pnpm-store/", "**/.local/share/pnpm/store/", "**/.cache/pnpm/"},
		What:  "the npm/yarn/pnpm cache", Advice: "end the same RUN with npm cache clean --force (yarn cache clean), or use RUN --mount=type=cache"},
	{ID: "gem-cache", Category: PackageCache, Severity: Warning, Paths: []string{"**/.gem/", "usr/local/bundle/cache/", "var/lib/gems/*/cache/", "usr/local/lib/ruby/gems/*/cache/"},
		What: "the RubyGems cache", Advice: "use bundle install with BUNDLE_NO_CACHE or gem install --no-document and clean the cache in the same RUN"},
	{ID: "composer-cache", Category: PackageCache, Severity: Warning, Paths: []string{"**/.composer/cache/", "**/.cache/composer/"},
		What: "Composer's cache", Advice: "use composer install --no-cache, or RUN --mount=type=cache"},

	// build-cache
	{ID: "go-build-cache", Category: BuildCache, Severity: Warning, Paths: []string{"**/.cache/go-build/", "**/go/pkg/mod/"},
		What: "Go's build and module caches", Advice: adviceCache},
	{ID: "maven-cache", Category: BuildCache, Severity: Warning, Paths: []string{"**/.m2/repository/"},
		What: "Maven's local repository", Advice: adviceCache},
	{ID: "gradle-cache", Category: BuildCache, Severity: Warning, Paths: []string{"**/.gradle/caches/", "**/.gradle/wrapper/dists/"},
		What: "Gradle's caches", Advice: adviceCache},
	{ID: "cargo-cache", Category: BuildCache, Severity: Warning, Paths: []string{"**/.cargo/registry/", "**/.cargo/git/", "usr/local/cargo/registry/", "usr/local/cargo/git/"},
		What: "Cargo's registry cache", Advice: adviceCache},
	{ID: "ccache", Category: BuildCache, Severity: Warning, Paths: []string{"**/.ccache/", "**/.cache/ccache/"},
		What: "ccache's cache", Advice: adviceCache},

	// dev-files: only reported when no compiler ships to use them
	// (usr/local holds the headers and libraries of language runtimes built
	// from source, as the official python and node images do: theirs.)
	{ID: "c-headers", Category: DevFiles, Severity: Info, Paths: []string{"usr/include/"},
		What: "C headers", Advice: "install the -dev packages in a builder stage only"},
	{ID: "static-libs", Category: DevFiles, Severity: Info, Paths: []string{"usr/lib/*.a", "usr/lib/*/*.a", "lib/*/*.a"},
		What: "static libraries", Advice: "install the -dev packages in a builder stage only"},
	{ID: "pkg-config", Category: DevFiles, Severity: Info, Paths: []string{"usr/lib/pkgconfig/*.pc", "usr/lib/*/pkgconfig/*.pc", "usr/share/pkgconfig/*.pc"},
		What: "pkg-config files", Advice: "install the -dev packages in a builder stage only"},

	// source
	{ID: IDSourceCode, Category: Source, Severity: Warning,
		Paths:  []string{"**/*.go", "**/*.c", "**/*.h", "**/*.cc", "**/*.cpp", "**/*.cxx", "**/*.hpp", "**/*.rs", "**/*.java", "**/*.kt", "**/*.scala", "**/*.cs", "**/*.ts"},
		Except: systemTrees, What: "source code of a compiled language", Advice: adviceBuilder},
	{ID: IDBuildFiles, Category: Source, Severity: Warning,
		Paths: []string{"**/Makefile", "**/go.mod", "**/go.sum", "**/Cargo.toml", "**/Cargo.lock", "**/pom.xml", "**/build.gradle", "**/build.gradle.kts",
			"**/CMakeLists.txt", "**/Dockerfile", "**/*.Dockerfile", "**/Containerfile", "**/.dockerignore"},
		Except: append([]string{"**/vendor/"}, systemTrees...), What: "build files copied in with the source", Advice: adviceIgnore},
	{ID: IDContextJunk, Category: Source, Severity: Warning,
		Paths:  []string{"**/.idea/", "**/.vscode/", "**/docker-compose*.yml", "**/docker-compose*.yaml"},
		Except: systemTrees, What: "editor and compose files from the build context", Advice: adviceIgnore},

	// waste and config are computed, not matched by path
	{ID: IDRemovedLater, Category: Waste, Severity: Warning, What: "bytes removed by a later layer", Advice: "remove them in the same RUN that created them, or build in a builder stage: a later rm only hides them"},
	{ID: IDPackageDB, Category: Waste, Severity: Info, What: "package database updates: no Dockerfile can avoid them", Advice: "nothing to do: any package install on a base rewrites these databases (the CI waste rules leave them out unless --strict-waste)"},
	{ID: IDMetadataOnly, Category: Waste, Severity: Warning, What: "files re-shipped whole for a chmod or chown", Advice: "set the mode and owner where the files are made: COPY --chmod=755 --chown=app:app, or chmod in the same RUN"},
	{ID: IDRewrittenUnchanged, Category: Waste, Severity: Warning, What: "files written again with the same bytes, mode and owner", Advice: "keep the step from rewriting files it does not change (npm ci leaves package-lock.json alone; touch and tools that rewrite in place re-ship the whole file)"},
	{ID: IDOverwritten, Category: Waste, Severity: Warning, What: "files written again by a later layer", Advice: "write each file once: merge the RUNs, or build in a builder stage"},
	{ID: IDSecretEnv, Category: Secret, Severity: Error, What: "a secret in the image config or build history", Advice: "pass secrets with RUN --mount=type=secret or at run time; ENV values and build arguments are stored in the image for anyone to read. Rotate this one"},
	{ID: IDUserUndefined, Category: Config, Severity: Error, What: "USER names a user or group the image does not define: docker run fails", Advice: "use a numeric user (USER 65532:65532), or COPY a passwd and group file in that define it"},
	{ID: IDRunAsRoot, Category: Config, Severity: Warning, What: "the image runs as root", Advice: "add a user and switch to it (the fix is fitted to the image's base: Debian useradd --system --uid 10001 app, Alpine adduser -D -u 10001 app, RHEL useradd -r -u 10001 app), then USER app; FROM scratch or distroless: USER 65532:65532"},
	{ID: IDInstallAfterCopy, Category: Config, Severity: Info, What: "dependencies installed after COPY of the whole build context", Advice: "copy the lock files first (COPY package*.json ./ then RUN npm ci), then COPY . ., so a source change keeps the install layer cached"},
}

// libraryTrees hold packaged libraries and toolchains whose test keys and
// sample configs are published, not secrets.
var libraryTrees = []string{"usr/share/", "usr/lib/", "usr/local/go/", "usr/local/lib/", "**/node_modules/", "**/site-packages/", "**/dist-packages/", "**/gems/", "**/go/pkg/mod/", "**/testdata/", "**/vendor/"}

// systemTrees hold what the OS and package managers installed: sources
// there are part of a runtime or a package, not the build's leftovers.
var systemTrees = []string{"usr/lib/", "usr/share/", "usr/include/", "usr/local/lib/", "usr/local/include/", "usr/local/share/", "lib/", "lib64/", "etc/", "var/lib/", "proc/", "sys/",
	"**/node_modules/", "**/site-packages/", "**/dist-packages/", "**/gems/", "**/vendor/bundle/", "**/include/", "opt/conda/", "**/venv/", "**/.venv/", "**/*.d.ts"}
