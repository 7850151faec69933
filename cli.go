package main

import (
	"fmt"
	"slices"
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
	{name: "source", arg: "KIND", help: []string{"read IMAGE as docker (the daemon), docker-archive, oci",
		"or oci-archive instead of guessing."}, values: func() []string { return sources }, example: "--source docker"},
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
	{name: "fail-on", arg: "LIST", help: []string{"fail on findings of these categories or severities",
		"(default: secret,error; 'none' for never)."},
		values: func() []string {
			return append(append([]string{"none"}, rules.Categories...), rules.Error, rules.Warning, rules.Info)
		},
		example: "--fail-on secret,toolchain,warning"},
	{name: "list-rules", help: []string{"print the leftover rules: what each matches, and its fix."}},
	{name: "ci-config", arg: "FILE", help: []string{"CI settings (default: .layerscope.yaml, else dive's",
		".dive-ci, in the working directory)."}, files: true, example: "--ci-config ci.yaml"},
	{name: "version", help: []string{"print the version."}},
	{name: "help", help: []string{"print this help."}},
}

// sources are the --source kinds.
var sources = []string{image.SourceDocker, image.SourceDockerArchive, image.SourceOCI, image.SourceOCIArchive}

func suffixed(xs []string, suffix string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x + suffix
	}
	return out
}

// flagsHelp is the Flags section of --help: the example goes on the
// last line when it fits, else on a line of its own.
func flagsHelp() string {
	var b strings.Builder
	for _, d := range flagDocs {
		head := "--" + d.name
		if d.arg != "" {
			head += " " + d.arg
		}
		lines := slices.Clone(d.help)
		if d.example != "" {
			if last := len(lines) - 1; len(lines[last])+len(" e.g. ")+len(d.example) <= 56 {
				lines[last] += " e.g. " + d.example
			} else {
				lines = append(lines, "e.g. "+d.example)
			}
		}
		for i, line := range lines {
			if i > 0 {
				head = ""
			}
			fmt.Fprintf(&b, "  %-24s%s\n", head, line)
		}
	}
	return b.String()
}

const usageHead = `layerscope shows why a container image is big and what a multi-stage build
should have left behind.

Usage:
  layerscope [flags] IMAGE
  layerscope completion bash|zsh|fish

IMAGE is an image in the Docker daemon (myimage:tag), a file from
'docker save' or an OCI archive (app.tar, app.tar.gz), an OCI layout
directory, FILE:REF for one image of an archive that holds several, or -
for an archive on standard input. Flags may come before or after it. On a terminal, without --ci, layerscope
opens the interactive explorer (? lists its keys); otherwise it prints the
text report.

Examples:
  layerscope --ci myimage:tag                  # report, exit 0 pass / 1 fail / 2 error
  layerscope --ci --format json myimage:tag    # the same report as JSON
  layerscope --ci --output sarif:ls.sarif --output markdown:ls.md myimage:tag
  layerscope --ci ./app.tar                    # a 'docker save' archive or oci-archive
  layerscope --ci ./oci-layout-dir             # an OCI image layout
  layerscope --ci ./many.tar:web:1.2           # one image of several
  docker save app | gzip | layerscope --ci -   # from standard input
  layerscope testdata/sample.tar               # the bundled sample, no daemon needed

Flags:
`

const usageTail = `
On GitHub Actions (GITHUB_ACTIONS=true) with --ci, each finding that fails CI
is also printed as an ::error annotation, on its Dockerfile line when known,
and the Markdown summary is appended to GITHUB_STEP_SUMMARY when it is set.

The daemon is found as the docker CLI finds it: DOCKER_HOST (with
DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), else the current docker context.
Podman works through its Docker-compatible socket (DOCKER_HOST=unix:///run/podman/podman.sock).

Exit codes: 0 analysed and every rule passed; 1 analysed and a rule failed;
2 could not analyse (bad input, no daemon, no image); 130 stopped by the user.
`

// usage is what --help prints.
func usage() string { return usageHead + flagsHelp() + usageTail }
