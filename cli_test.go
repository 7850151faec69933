package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFlagDocsDrift: --help, the man page and the completions are made
// from flagDocs, so it must list exactly the flags the parser knows.
func TestFlagDocsDrift(t *testing.T) {
	var defined, documented []string
	newFlagSet(&options{}).VisitAll(func(f *flag.Flag) {
		if f.Name != "h" { // -h is --help's short form
			defined = append(defined, f.Name)
		}
	})
	for _, d := range flagDocs {
		documented = append(documented, d.name)
	}
	slices.Sort(defined)
	slices.Sort(documented)
	if !slices.Equal(defined, documented) {
		t.Errorf("flags defined %v\nflags documented %v", defined, documented)
	}
	help := usage()
	for _, d := range flagDocs {
		if !strings.Contains(help, "  --"+d.name+" ") {
			t.Errorf("--help lacks --%s", d.name)
		}
		if d.example != "" && !strings.Contains(help, d.example) {
			t.Errorf("--help lacks the example %q", d.example)
		}
	}
	for _, line := range strings.Split(flagsHelp(), "\n") {
		if len([]rune(line)) > 84 {
			t.Errorf("--help flag line longer than 84 columns: %q", line)
		}
	}
}

// TestManPage keeps layerscope.1 what manPage makes: go test -run
// TestManPage -update rewrites it.
func TestManPage(t *testing.T) {
	got := manPage()
	if *update {
		os.WriteFile("layerscope.1", []byte(got), 0o644)
	}
	want, err := os.ReadFile("layerscope.1")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Error("layerscope.1 differs from the flag definitions: run go test -run TestManPage -update")
	}
	for _, d := range flagDocs {
		if !strings.Contains(got, `.B \-\-`+strings.ReplaceAll(d.name, "-", `\-`)) {
			t.Errorf("man page lacks --%s", d.name)
		}
	}
	for _, s := range []string{".SH FIGURES", ".SH RULES", ".SH EXIT STATUS", "private\\-key"} {
		if !strings.Contains(got, s) {
			t.Errorf("man page lacks %q", s)
		}
	}
	if man, err := exec.LookPath("man"); err == nil {
		cmd := exec.Command(man, "--warnings", "-l", "-Tutf8", "layerscope.1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("man -l layerscope.1: %v\n%s", err, stderr.String())
		}
	}
}

// TestCompletion: each shell's script names every flag, the values of
// --format and --fail-on, and parses in its shell when that is installed.
func TestCompletion(t *testing.T) {
	t.Setenv("CI", "")
	for _, shell := range []struct{ name, check string }{{"bash", "bash"}, {"zsh", "zsh"}, {"fish", "fish"}} {
		t.Run(shell.name, func(t *testing.T) {
			code, script, stderr := layerscope(t, nil, "completion", shell.name)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, d := range flagDocs {
				if !strings.Contains(script, d.name) {
					t.Errorf("no --%s", d.name)
				}
			}
			for _, v := range []string{"codequality", "package-cache", "docker-archive", "docker image ls"} {
				if !strings.Contains(script, v) {
					t.Errorf("no %q", v)
				}
			}
			if _, err := exec.LookPath(shell.check); err != nil {
				t.Skipf("%s is not installed: its syntax is not checked", shell.check)
			}
			f := filepath.Join(t.TempDir(), "script")
			os.WriteFile(f, []byte(script), 0o644)
			if out, err := exec.Command(shell.check, "-n", f).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell.check, err, out)
			}
		})
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}} {
		if code, _, stderr := layerscope(t, nil, args...); code != 2 || !strings.Contains(stderr, "bash, zsh or fish") {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
}

// TestBashCompletionWorks runs the bash script: flags, --format values
// and a --fail-on list complete.
func TestBashCompletionWorks(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	_, script, _ := layerscope(t, nil, "completion", "bash")
	f := filepath.Join(t.TempDir(), "c.bash")
	os.WriteFile(f, []byte(script), 0o644)
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"layerscope", "--form"}, "--format"},
		{[]string{"layerscope", "--format", "sa"}, "sarif"},
		{[]string{"layerscope", "--fail-on", "secret,tool"}, "secret,toolchain"},
		{[]string{"layerscope", "compl"}, "completion"},
		{[]string{"layerscope", "completion", "z"}, "zsh"},
	} {
		prog := "source " + f + "; COMP_WORDS=(" + strings.Join(tc.words, " ") + "); COMP_CWORD=" + string(rune('0'+len(tc.words)-1)) + "; _layerscope; printf '%s\\n' \"${COMPREPLY[@]}\""
		out, err := exec.Command("bash", "-c", prog).CombinedOutput()
		if err != nil || !slices.Contains(strings.Split(string(out), "\n"), tc.want) {
			t.Errorf("%v: %v, got %q, want %q", tc.words, err, out, tc.want)
		}
	}
}

// TestHelpFitsEightyColumns: every line of --help fits a terminal of 80
// columns.
func TestHelpFitsEightyColumns(t *testing.T) {
	for i, line := range strings.Split(usage(), "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("--help line %d is %d columns: %q", i+1, n, line)
		}
	}
}
