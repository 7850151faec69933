package main

import (
	"fmt"
	"strings"

	"github.com/layerscope/layerscope/image"
	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/rules"
)

// flagDoc documents one flag: --help, the man page and the completion
// scripts are all made from flagDocs, and a test checks that it lists
// exactly the flags newFlagSet defines.
type flagDoc struct {
	name    string
	arg     string   // its value's placeholder; "" for a switch
	help    []string // lines, already wrapped for --help
	values  func() []string
	files   bool // the value is a file name
	image   bool // the value is an image: a name the daemon has, or a file
	example string
}

var flagDocs = []flagDoc{
	{name: "ci", help: []string{"analyse and report without the interactive view; exit 1",
		"when a rule fails. CI=true in the environment turns it", "on; --ci=false turns it off."}, example: "--ci"},
	{name: "format", arg: "FORMAT", help: []string{"the report on standard output: text (the default), json,",
		"sarif, junit, markdown or codequality."}, values: func() []string { return report.Formats }, example: "--format sarif"},
	{name: "output", arg: "FORMAT:FILE", help: []string{"also write the report in FORMAT to FILE; repeat it for",
		"several. A file is replaced whole; /dev/stdout or a", "FIFO is written to."},
		values: func() []string { return suffixed(report.Formats, ":") }, files: true, example: "--output sarif:layerscope.sarif"},
	{name: "json", arg: "FILE", help: []string{"the same as --output json:FILE."}, files: true, example: "--json report.json"},
	{name: "dockerfile", arg: "PATH", help: []string{"the Dockerfile the image was built from: findings name",
		"the line of the instruction that made their layer when", "its final stage matches the image's history (default:",
		"./Dockerfile when it matches; 'none' to skip)."}, files: true, example: "--dockerfile build/Dockerfile"},
	{name: "source", arg: "KIND", help: []string{"read IMAGE as docker (the daemon), docker-archive,",
		"oci, oci-archive, registry or containerd instead of", "guessing."}, values: func() []string { return image.Sources }, example: "--source registry"},
	{name: "insecure-registry", arg: "HOST", help: []string{"allow plain HTTP to this registry (HOST[:PORT]);",
		"localhost and 127.0.0.1 always may."}, example: "--insecure-registry reg.lan:5000"},
	{name: "containerd-address", arg: "SOCKET", help: []string{"containerd's socket for --source containerd (default:",
		"CONTAINERD_ADDRESS, else /run/containerd/containerd.sock)."}, files: true},
	{name: "namespace", arg: "NS", help: []string{"containerd's namespace (default: CONTAINERD_NAMESPACE,",
		"else default; Kubernetes nodes use k8s.io)."}, example: "--namespace k8s.io"},
	{name: "platform", arg: "OS/ARCH[/V]", help: []string{"the image to pick from a multi-platform index (default:",
		"linux and this machine's architecture)."}, values: func() []string { return []string{"linux/amd64", "linux/arm64", "linux/arm/v7"} }, example: "--platform linux/arm64"},
	{name: "max-waste", arg: "SIZE", help: []string{"fail when more bytes than this are wasted (MB = 10^6",
		"bytes, MiB = 2^20; 'disabled' switches it off)."}, example: "--max-waste 50MB"},
	{name: "max-waste-percent", arg: "N", help: []string{"fail when wasted bytes exceed N % of what the build added",
		"(all layers but the base). Default 10."}, example: "--max-waste-percent 5"},
	{name: "min-efficiency", arg: "F", help: []string{"fail when efficiency (1 - wasted/all layer bytes) is below",
		"F, from 0 to 1. Default 0.9."}, example: "--min-efficiency 0.95"},
	{name: "strict-waste", help: []string{"judge every wasted byte, package-database updates too (by",
		"default the waste rules judge wasted bytes less those, and", "the percent and efficiency rules only from 1 MB)."}, example: "--strict-waste"},
	{name: "max-growth", arg: "SIZE", help: []string{"diff: fail when NEW ships more than SIZE bytes more",
		"than OLD (its content bytes)."}, example: "--max-growth 10MB"},
	{name: "max-growth-percent", arg: "N", help: []string{"diff: fail when NEW ships more than N % more than OLD."}, example: "--max-growth-percent 5"},
	{name: "baseline", arg: "FILE", help: []string{"compare with an earlier run's JSON report: the growth",
		"rules judge the summary's figures, --fail-on only the", "findings FILE does not have."}, files: true, example: "--baseline main.json"},
	{name: "fail-on", arg: "LIST", help: []string{"fail on findings of these categories or severities",
		"(default: secret,error; 'none' alone for never; 'base'",
		"beside them counts the base image's findings too). With",
		"diff, only the findings NEW has and OLD has not count."},
		values: func() []string {
			values := []string{rules.FailOnNone, report.FailOnBase}
			for _, c := range rules.Categories {
				values = append(values, string(c))
			}
			return append(values, string(rules.Error), string(rules.Warning), string(rules.Info))
		},
		example: "--fail-on secret,toolchain,warning"},
	{name: "base", arg: "IMAGE", help: []string{"the image this one was built FROM, any source IMAGE",
		"can be: its layers are marked as the base's, the",
		"max-waste-percent rule judges the build's waste above it,",
		"and its findings fail CI only when --fail-on names base",
		"(a secret fails whoever shipped it) (default: the base the",
		"manifest's annotations name, else",
		"the daemon's image whose layers begin this one's; 'none'",
		"for no base)."}, image: true, example: "--base debian:12"},
	{name: "list-rules", help: []string{"print the leftover rules: what each matches, and its fix."}},
	{name: "ci-config", arg: "FILE", help: []string{"CI settings (default: .layerscope.yaml, else dive's",
		".dive-ci, in the working directory)."}, files: true, example: "--ci-config ci.yaml"},
	{name: "version", help: []string{"print the version."}},
	{name: "help", help: []string{"print this help."}},
}

func suffixed(xs []string, suffix string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x + suffix
	}
	return out
}

// flagsHelp is the Flags section of --help, within 80 columns: each
// flag's text (and its example) wrapped beside the flag, or under it when
// the flag is too long to leave room.
func flagsHelp() string {
	const indent, width = 26, 80
	var b strings.Builder
	for _, d := range flagDocs {
		head := "--" + d.name
		if d.arg != "" {
			head += " " + d.arg
		}
		words := strings.Fields(strings.Join(d.help, " "))
		if d.example != "" {
			words = append(words, "e.g. "+d.example) // kept whole on a line
		}
		lines := wrap(words, width-indent)
		if len(head) > indent-4 {
			fmt.Fprintf(&b, "  %s\n", head)
			head = ""
		}
		for i, line := range lines {
			if i > 0 {
				head = ""
			}
			fmt.Fprintf(&b, "  %-*s%s\n", indent-2, head, line)
		}
	}
	return b.String()
}

// wrap joins words into lines of at most width columns; a word longer
// than that has a line of its own.
func wrap(words []string, width int) []string {
	var lines []string
	line := ""
	for _, w := range words {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	return append(lines, line)
}

const usageHead = `layerscope shows why a container image is big and what a multi-stage build
should have left behind.

Usage:
  layerscope [flags] IMAGE
  layerscope diff [flags] OLD NEW
  layerscope completion bash|zsh|fish

IMAGE is a file from 'docker save' or an OCI archive (app.tar, app.tar.gz),
an OCI layout directory, FILE:REF for one image of an archive that holds
several, - for an archive on standard input, or an image name. A name is
read from the Docker daemon; when the daemon lacks it, or none answers, from
its registry (registry://REF goes straight there). In CI mode only a name
that names its registry host is (ghcr.io/org/app, localhost:5000/app): a
bare name (myapp, library/alpine) is not read from Docker Hub in its place
but is an error; registry://myapp reads it from there. Flags may come before
or after IMAGE. On a terminal, without --ci, layerscope opens the
interactive explorer (? lists its keys); otherwise it prints the text report.

layerscope diff compares two images, each any IMAGE (- for one of them):
what NEW added, removed and changed, the layers they share, and the findings
NEW brought in or fixed, in any --format. With --ci it exits 1 when NEW grows
past --max-growth or --max-growth-percent, or brings a --fail-on finding.

Examples:
  layerscope --ci myimage:tag                # report; exit 0 pass, 1 fail
  layerscope --ci --format json myimage:tag  # the same report as JSON
  layerscope --ci --output sarif:ls.sarif --output markdown:ls.md myimage:tag
  layerscope --ci ./app.tar                  # 'docker save' or an oci-archive
  layerscope --ci ./oci-layout-dir           # an OCI image layout
  layerscope --ci ./many.tar:web:1.2         # one image of several
  layerscope --ci registry://ghcr.io/org/app:1.2  # a registry, no daemon
  docker save app | gzip | layerscope --ci - # from standard input
  layerscope testdata/sample.tar             # the bundled sample, no daemon
  layerscope diff --ci --max-growth 10MB app:main app:pr  # what a change added
  layerscope --ci --baseline main.json app:pr  # judged against main's report

Flags:
`

const usageTail = `
On GitHub Actions (GITHUB_ACTIONS=true) with --ci, each finding that fails CI
is also printed as an ::error annotation, on its Dockerfile line when known,
and the Markdown summary is appended to GITHUB_STEP_SUMMARY when it is set.

The daemon is found as the docker CLI finds it: DOCKER_HOST (with
DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), else the current docker context.
Podman works through its Docker-compatible socket:
DOCKER_HOST=unix:///run/podman/podman.sock. A registry login is read from
Docker's config.json and its credential helpers, as docker login writes it.

Exit codes: 0 analysed and every rule passed; 1 analysed and a rule failed;
2 could not analyse (bad input, no daemon, no image); 130 stopped by the user.
`

// usage is what --help prints.
func usage() string { return usageHead + flagsHelp() + usageTail }
