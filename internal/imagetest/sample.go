package imagetest

import (
	"fmt"
	"strings"
)

// Sample is the image bundled as testdata/sample.tar: a Go service built
// in one stage, the way the articles behind layerscope say not to. It
// holds every kind of leftover, with fixed contents and times, so its
// figures never change.
func Sample() Image {
	g := &gen{seed: 42}
	server := (&gen{seed: 7}).bin(300_000)
	base := Layer(
		Dir("bin/"), Reg("bin/busybox", g.bin(180_000)), Sym("bin/sh", "busybox"), Sym("bin/ls", "busybox"),
		Dir("etc/"), Reg("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
		Reg("etc/group", "root:x:0:\napp:x:1000:\n"), Reg("etc/os-release", "NAME=\"Sample Linux\"\nVERSION_ID=1\n"),
		Dir("home/"), Owned(Dir("home/app/"), 1000, 1000), Chmod(Dir("root/"), 0o700), Chmod(Dir("tmp/"), 0o1777),
		Dir("usr/"), Dir("usr/lib/"), Reg("usr/lib/libc.so.6", g.bin(90_000)),
		Dir("var/"), Dir("var/cache/"), Dir("var/lib/"),
	)
	toolchain := Layer(
		Dir("usr/local/"), Dir("usr/local/go/"), Dir("usr/local/go/bin/"),
		Chmod(Reg("usr/local/go/bin/go", g.bin(160_000)), 0o755),
		Chmod(Reg("usr/local/go/bin/gofmt", g.bin(40_000)), 0o755),
		Dir("usr/local/go/pkg/"), Dir("usr/local/go/pkg/tool/"), Dir("usr/local/go/pkg/tool/linux_amd64/"),
		Chmod(Reg("usr/local/go/pkg/tool/linux_amd64/compile", g.bin(220_000)), 0o755),
		Chmod(Reg("usr/local/go/pkg/tool/linux_amd64/link", g.bin(90_000)), 0o755),
		Dir("usr/local/go/src/"), Dir("usr/local/go/src/fmt/"), Reg("usr/local/go/src/fmt/print.go", g.text(30_000)),
		Dir("usr/include/"), Reg("usr/include/stdio.h", g.text(12_000)),
		Dir("var/cache/apt/"), Dir("var/cache/apt/archives/"), Reg("var/cache/apt/archives/golang-1.22_amd64.deb", g.bin(120_000)),
		Reg("var/cache/apt/pkgcache.bin", g.bin(40_000)),
		Dir("var/lib/apt/"), Dir("var/lib/apt/lists/"), Reg("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", g.text(60_000)),
	)
	source := Layer(
		Dir("src/"), Reg("src/main.go", "package main\n\nfunc main() { serve() }\n"+g.text(6_000)),
		Reg("src/server.go", "package main\n\n"+g.text(9_000)), Reg("src/go.mod", "module example.com/server\n\ngo 1.22\n"),
		Reg("src/go.sum", g.text(2_000)), Reg("src/Dockerfile", "FROM sample/base\nCOPY . /src\nRUN go build -o /app/server ./src\n"),
		Reg("src/.env", "DATABASE_URL=postgres://app@db/app\nAPI_TOKEN=sk_live_0000000000000000000000\n"),
		Chmod(Reg("src/deploy_key", "-----BEGIN OPENSSH PRIVATE KEY-----\n"+g.base64(1_600)+"\n-----END OPENSSH PRIVATE KEY-----\n"), 0o600),
		Dir("src/.git/"), Reg("src/.git/HEAD", "ref: refs/heads/main\n"), Reg("src/.git/config", "[core]\n\tbare = false\n"),
		Dir("src/.git/objects/"), Dir("src/.git/objects/pack/"), Reg("src/.git/objects/pack/pack-0a1b2c.pack", g.bin(70_000)),
	)
	build := Layer(
		Dir("app/"), Chmod(Reg("app/server", server), 0o644),
		Dir("root/.cache/"), Dir("root/.cache/go-build/"), Dir("root/.cache/go-build/3f/"),
		Reg("root/.cache/go-build/3f/3f9a1c-d", g.bin(110_000)), Reg("root/.cache/go-build/3f/3f9a1c-a", g.text(3_000)),
		Dir("root/go/"), Dir("root/go/pkg/"), Dir("root/go/pkg/mod/"), Dir("root/go/pkg/mod/cache/"),
		Reg("root/go/pkg/mod/cache/download.zip", g.bin(80_000)),
	)
	cleanup := Layer(
		Dir("src/"), Whiteout("src", "deploy_key"),
		Dir("var/cache/apt/archives/"), Whiteout("var/cache/apt/archives", "golang-1.22_amd64.deb"),
	)
	chmod := Layer(Dir("app/"), Chmod(Reg("app/server", server), 0o755))
	return Image{
		Layers: [][]byte{base, toolchain, source, build, cleanup, chmod},
		History: []History{
			{CreatedBy: "/bin/sh -c #(nop) ADD file:5d6b39c4e8b0a2f1 in / "},
			{CreatedBy: "/bin/sh -c #(nop)  CMD [\"sh\"]", EmptyLayer: true},
			{CreatedBy: "/bin/sh -c apt-get update && apt-get install -y golang-1.22"},
			{CreatedBy: "/bin/sh -c #(nop)  ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", EmptyLayer: true},
			{CreatedBy: "/bin/sh -c #(nop)  WORKDIR /src", EmptyLayer: true},
			{CreatedBy: "/bin/sh -c #(nop) COPY dir:8c2f0e1d9a7b6c5d in /src "},
			{CreatedBy: "|1 NPM_TOKEN=npm_0000000000000000000000000000000000 /bin/sh -c go build -o /app/server ."},
			{CreatedBy: "/bin/sh -c rm -f /src/deploy_key /var/cache/apt/archives/*.deb"},
			{CreatedBy: "/bin/sh -c chmod +x /app/server"},
			{CreatedBy: "/bin/sh -c #(nop)  EXPOSE 8080", EmptyLayer: true},
			{CreatedBy: "/bin/sh -c #(nop)  CMD [\"/app/server\"]", EmptyLayer: true},
		},
		Env:  []string{"PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Tags: []string{"layerscope/sample:1"},
	}
}

// gen makes deterministic filler: "binary" that compresses a little, and
// text that reads like code.
type gen struct{ seed uint64 }

func (g *gen) next() uint64 {
	g.seed ^= g.seed << 13
	g.seed ^= g.seed >> 7
	g.seed ^= g.seed << 17
	return g.seed
}

func (g *gen) bin(n int) string {
	b := make([]byte, n)
	for i := range b {
		if i%4 == 0 {
			b[i] = byte(g.next())
		}
	}
	return string(b)
}

var words = strings.Fields("func return if err nil for range := string int byte struct type package import var const go defer select case switch")

func (g *gen) text(n int) string {
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, "%s ", words[g.next()%uint64(len(words))])
		if g.next()%8 == 0 {
			b.WriteString("\n\t")
		}
	}
	return b.String()[:n]
}

func (g *gen) base64(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.next()%64]
		if i%71 == 70 {
			b[i] = '\n'
		}
	}
	return string(b)
}
