package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/layerscope/layerscope/report"
	"github.com/layerscope/layerscope/rules"
)

// completion prints a shell's completion script, made from flagDocs.
func completion(args []string, w io.Writer) (int, error) {
	if len(args) != 1 {
		return exitError, usageError{"completion wants one shell: bash, zsh or fish"}
	}
	var script string
	switch args[0] {
	case "bash":
		script = bashCompletion()
	case "zsh":
		script = zshCompletion()
	case "fish":
		script = fishCompletion()
	default:
		return exitError, usageError{fmt.Sprintf("completion: unknown shell %q: want bash, zsh or fish", args[0])}
	}
	if _, err := io.WriteString(w, script); err != nil {
		return exitError, err
	}
	return exitPass, nil
}

// imageListCmd lists the daemon's tagged images, quietly: no daemon, no
// names.
const imageListCmd = `docker image ls --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>'`

func bashCompletion() string {
	var b strings.Builder
	b.WriteString("# bash completion for layerscope: source <(layerscope completion bash)\n")
	b.WriteString("_layerscope() {\n")
	b.WriteString("  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n")
	b.WriteString("  if [ \"$COMP_CWORD\" -eq 1 ] && [[ \"$cur\" != -* ]] && [ -n \"$cur\" ] && [[ completion == \"$cur\"* || diff == \"$cur\"* ]]; then COMPREPLY=($(compgen -W 'completion diff' -- \"$cur\")); return; fi\n")
	b.WriteString("  if [ \"$prev\" = completion ]; then COMPREPLY=($(compgen -W 'bash zsh fish' -- \"$cur\")); return; fi\n")
	b.WriteString("  case \"$prev\" in\n")
	var names []string
	for _, d := range flagDocs {
		names = append(names, "--"+d.name)
		if d.arg == "" {
			continue
		}
		switch {
		case d.image:
			fmt.Fprintf(&b, "    --%s) COMPREPLY=($(compgen -W \"$(%s)\" -- \"$cur\") $(compgen -f -- \"$cur\")); return ;;\n", d.name, imageListCmd)
		case d.name == "fail-on":
			fmt.Fprintf(&b, "    --%s) local pre=\"\"; [[ \"$cur\" == *,* ]] && pre=\"${cur%%,*},\"; COMPREPLY=($(compgen -P \"$pre\" -W '%s' -- \"${cur##*,}\")); return ;;\n", d.name, strings.Join(d.values(), " "))
		case d.values != nil:
			fmt.Fprintf(&b, "    --%s) COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return ;;\n", d.name, strings.Join(d.values(), " "))
		case d.files:
			fmt.Fprintf(&b, "    --%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", d.name)
		default:
			fmt.Fprintf(&b, "    --%s) return ;;\n", d.name)
		}
	}
	b.WriteString("  esac\n")
	fmt.Fprintf(&b, "  if [[ \"$cur\" == -* ]]; then COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return; fi\n", strings.Join(names, " "))
	fmt.Fprintf(&b, "  COMPREPLY=($(compgen -W \"$(%s)\" -- \"$cur\") $(compgen -f -- \"$cur\"))\n", imageListCmd)
	b.WriteString("}\ncomplete -o filenames -F _layerscope layerscope\n")
	return b.String()
}

// zshText makes a flag's help safe inside an _arguments spec.
func zshText(s string) string {
	return strings.NewReplacer("[", "(", "]", ")", ":", " ", "'", "", "\\", "").Replace(s)
}

func zshCompletion() string {
	var b strings.Builder
	b.WriteString("#compdef layerscope\n# zsh completion for layerscope: layerscope completion zsh > \"${fpath[1]}/_layerscope\"\n")
	b.WriteString("_layerscope_images() {\n  local -a imgs\n  imgs=(${(f)\"$(" + imageListCmd + ")\"})\n")
	b.WriteString("  _alternative 'images:image:compadd -a imgs' 'files:file:_files'\n}\n")
	b.WriteString("_layerscope() {\n  if (( CURRENT == 2 )) && [[ $words[2] != -* ]]; then\n")
	b.WriteString("    _alternative 'commands:command:(completion diff)' 'images:image:_layerscope_images'\n    return\n  fi\n")
	b.WriteString("  if [[ $words[2] == completion ]]; then _values shell bash zsh fish; return; fi\n")
	b.WriteString("  _arguments -s \\\n")
	for _, d := range flagDocs {
		desc := zshText(d.help[0])
		repeat := ""
		if d.name == "output" {
			repeat = "*"
		}
		switch {
		case d.arg == "":
			fmt.Fprintf(&b, "    '%s--%s[%s]' \\\n", repeat, d.name, desc)
		case d.image:
			fmt.Fprintf(&b, "    '--%s=[%s]:%s:_layerscope_images' \\\n", d.name, desc, zshText(d.arg))
		case d.name == "fail-on":
			fmt.Fprintf(&b, "    '--%s=[%s]:%s:_sequence compadd - %s' \\\n", d.name, desc, d.arg, strings.Join(d.values(), " "))
		case d.values != nil && !d.files:
			fmt.Fprintf(&b, "    '--%s=[%s]:%s:(%s)' \\\n", d.name, desc, zshText(d.arg), strings.Join(d.values(), " "))
		case d.files:
			fmt.Fprintf(&b, "    '%s--%s=[%s]:%s:_files' \\\n", repeat, d.name, desc, zshText(d.arg))
		default:
			fmt.Fprintf(&b, "    '--%s=[%s]:%s: ' \\\n", d.name, desc, zshText(d.arg))
		}
	}
	b.WriteString("    '1:image:_layerscope_images'\n}\ncompdef _layerscope layerscope\n")
	return b.String()
}

func fishCompletion() string {
	var b strings.Builder
	b.WriteString("# fish completion for layerscope: layerscope completion fish > ~/.config/fish/completions/layerscope.fish\n")
	b.WriteString("complete -c layerscope -n '__fish_use_subcommand' -f -a completion -d 'print a shell completion script'\n")
	b.WriteString("complete -c layerscope -n '__fish_use_subcommand' -a diff -d 'compare two images: OLD NEW'\n")
	b.WriteString("complete -c layerscope -n '__fish_seen_subcommand_from completion' -f -a 'bash zsh fish'\n")
	for _, d := range flagDocs {
		desc := strings.ReplaceAll(d.help[0], "'", "")
		switch {
		case d.arg == "":
			fmt.Fprintf(&b, "complete -c layerscope -l %s -d '%s'\n", d.name, desc)
		case d.image:
			fmt.Fprintf(&b, "complete -c layerscope -l %s -r -F -a \"(%s)\" -d '%s'\n", d.name, strings.ReplaceAll(imageListCmd, "'", "\\'"), desc)
		case d.values != nil && !d.files:
			fmt.Fprintf(&b, "complete -c layerscope -l %s -x -a '%s' -d '%s'\n", d.name, strings.Join(d.values(), " "), desc)
		case d.files:
			fmt.Fprintf(&b, "complete -c layerscope -l %s -r -F -d '%s'\n", d.name, desc)
		default:
			fmt.Fprintf(&b, "complete -c layerscope -l %s -x -d '%s'\n", d.name, desc)
		}
	}
	fmt.Fprintf(&b, "complete -c layerscope -a \"(%s)\" -d image\n", strings.ReplaceAll(imageListCmd, "'", "\\'"))
	return b.String()
}

// roff escapes text for a man page line.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// manPage is layerscope.1, made from flagDocs and the rule table.
func manPage() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(".TH LAYERSCOPE 1 \"\" \"layerscope\" \"User Commands\"\n")
	p(".SH NAME\nlayerscope \\- why a container image is big, and what its build should have left behind\n")
	p(".SH SYNOPSIS\n.B layerscope\n[\\fIflags\\fR] \\fIIMAGE\\fR\n.br\n.B layerscope diff\n[\\fIflags\\fR] \\fIOLD\\fR \\fINEW\\fR\n.br\n.B layerscope completion\n\\fBbash\\fR|\\fBzsh\\fR|\\fBfish\\fR\n")
	p(".SH DESCRIPTION\n%s\n", roff("IMAGE is an image in the Docker daemon (myimage:tag), a file from docker save or an OCI archive, "+
		"an OCI layout directory, FILE:REF for one image of an archive that holds several, or - for an archive on standard input; "+
		"registry://REF (or --source registry) reads it from its registry without a daemon, and --source containerd from containerd's content store. "+
		"A name the daemon lacks is read from its registry, and the report's Source line says so; under --ci only when the name gives its registry host. "+
		"On a terminal, without --ci, layerscope opens the interactive explorer; otherwise it prints the report."))
	p(".SH OPTIONS\n")
	for _, d := range flagDocs {
		p(".TP\n.B \\-\\-%s", roff(d.name))
		if d.arg != "" {
			p(" \\fI%s\\fR", roff(d.arg))
		}
		p("\n%s", roff(strings.Join(d.help, " ")))
		if d.example != "" {
			p(" Example: \\fB%s\\fR", roff(d.example))
		}
		p("\n")
	}
	p(".SH FORMATS\n%s\n", roff("--format and --output take "+strings.Join(report.Formats, ", ")+
		": the text report, the JSON report (schemaVersion 1), SARIF 2.1.0 for code scanning, JUnit XML, a Markdown summary for a pull request, and GitLab Code Quality JSON."))
	p(".SH FIGURES\n")
	for _, f := range [][2]string{
		{"layer bytes", "the sizes of a layer's regular-file entries, uncompressed."},
		{"wasted bytes", "the sizes of file versions that something later hides or replaces: they ship, and nobody sees them. The copy that is kept is never waste."},
		{"efficiency", "1 - wasted / all layer bytes."},
		{"waste percent", "100 x wasted / the bytes of every layer but the base."},
		{"unavoidable", "the wasted bytes of package-database rewrites (dpkg, apt, apk, rpm, ld.so.cache): the waste rules leave them out unless --strict-waste."},
	} {
		p(".TP\n.B %s\n%s\n", roff(f[0]), roff(f[1]))
	}
	p(".SH RULES\n%s\n", roff("A path belongs to the first rule that matches it, in this order (layerscope --list-rules shows what each matches):"))
	for _, r := range rules.Table {
		p(".TP\n.B %s\n%s\n", roff(r.ID), roff(fmt.Sprintf("%s, %s: %s. Fix: %s", r.Category, r.Severity, r.What, r.Advice)))
	}
	p(".SH EXIT STATUS\n.TP\n.B 0\nanalysed, and every rule passed\n.TP\n.B 1\nanalysed, and a rule failed (with \\-\\-ci)\n")
	p(".TP\n.B 2\ncould not analyse: bad input, no daemon, no image, a bad command line\n.TP\n.B 130\nstopped by the user\n")
	p(".SH ENVIRONMENT\n.TP\n.B CI\n%s\n", roff("true turns --ci on."))
	p(".TP\n.B DOCKER_HOST\n%s\n", roff("the daemon, as the docker CLI finds it (else the current docker context)."))
	p(".TP\n.B GITHUB_ACTIONS\n%s\n", roff("true: with --ci, failing findings are printed as ::error annotations."))
	p(".TP\n.B GITHUB_STEP_SUMMARY\n%s\n", roff("with --ci, the Markdown summary is appended to this file."))
	p(".SH FILES\n.TP\n.B .layerscope.yaml\n%s\n", roff("CI limits, fail-on, added and disabled rules, suppressions; else dive's .dive-ci."))
	return b.String()
}
