package dockerfile

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		want  []Stage
		error string
	}{
		{
			name: "continuations, comments inside them, and blank lines",
			text: "# a comment\nFROM base:1 AS build\n\nRUN a \\\n  # dropped\n\n  && b\nCOPY . .\n",
			want: []Stage{{From: Instruction{Keyword: "FROM", Args: "base:1 AS build", Line: 2}, Base: "base:1", Name: "build",
				Instructions: []Instruction{{Keyword: "RUN", Args: "a   && b", Line: 4}, {Keyword: "COPY", Args: ". .", Line: 8}}}},
		},
		{
			name: "the escape directive",
			text: "# escape=`\nFROM scratch\nCOPY a `\n  /b\n",
			want: []Stage{{From: Instruction{Keyword: "FROM", Args: "scratch", Line: 2}, Base: "scratch",
				Instructions: []Instruction{{Keyword: "COPY", Args: "a   /b", Line: 3}}}},
		},
		{
			name: "heredocs, quoted and tab-stripped",
			text: "FROM x\nRUN <<EOF\necho hi\nEOF\nCOPY <<-'END' /f\n\tbody\n\tEND\nUSER 1\n",
			want: []Stage{{From: Instruction{Keyword: "FROM", Args: "x", Line: 1}, Base: "x",
				Instructions: []Instruction{
					{Keyword: "RUN", Args: "<<EOF", Heredocs: []string{"echo hi"}, Line: 2},
					{Keyword: "COPY", Args: "<<-'END' /f", Heredocs: []string{"body"}, Line: 5},
					{Keyword: "USER", Args: "1", Line: 8}}}},
		},
		{
			name: "two stages, a global ARG, lower-case keywords, FROM flags",
			text: "ARG V=1\nfrom --platform=$BUILDPLATFORM a AS One\nrun x\nFROM one\nCMD [\"y\"]\n",
			want: []Stage{
				{From: Instruction{Keyword: "FROM", Args: "--platform=$BUILDPLATFORM a AS One", Line: 2}, Base: "a", Name: "one",
					Instructions: []Instruction{{Keyword: "RUN", Args: "x", Line: 3}}},
				{From: Instruction{Keyword: "FROM", Args: "one", Line: 4}, Base: "one",
					Instructions: []Instruction{{Keyword: "CMD", Args: `["y"]`, Line: 5}}},
			},
		},
		{
			name: "<< that is not a heredoc: a shift, a here-string, a word inside another",
			text: "FROM x\nRUN echo $((1<<2))\nRUN cat <<<\"x\"\nRUN cat <<<EOF\nRUN a<<b\n",
			want: []Stage{{From: Instruction{Keyword: "FROM", Args: "x", Line: 1}, Base: "x",
				Instructions: []Instruction{
					{Keyword: "RUN", Args: "echo $((1<<2))", Line: 2},
					{Keyword: "RUN", Args: `cat <<<"x"`, Line: 3},
					{Keyword: "RUN", Args: "cat <<<EOF", Line: 4},
					{Keyword: "RUN", Args: "a<<b", Line: 5}}}},
		},
		{
			name: "heredoc words: a file descriptor, double quotes, two in one line; mismatched quotes are not one",
			text: "FROM x\nRUN 3<<\"A\" cat <<B\na\nA\nb\nB\nRUN cat <<\"C'\n",
			want: []Stage{{From: Instruction{Keyword: "FROM", Args: "x", Line: 1}, Base: "x",
				Instructions: []Instruction{
					{Keyword: "RUN", Args: `3<<"A" cat <<B`, Heredocs: []string{"a", "b"}, Line: 2},
					{Keyword: "RUN", Args: `cat <<"C'`, Line: 7}}}},
		},
		{name: "no FROM", text: "# nothing\n", error: "no FROM instruction"},
		{name: "an instruction before FROM", text: "RUN x\nFROM y\n", error: "line 1: RUN before the first FROM"},
		{name: "an open heredoc", text: "FROM x\nRUN <<EOF\necho\n", error: "heredoc EOF is not closed"},
		{name: "FROM with no image", text: "FROM --platform=x\n", error: "FROM names no image"},
		{name: "too big", text: "FROM x\n" + strings.Repeat("#", MaxBytes), error: "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tc.text))
			if tc.error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.error) {
					t.Fatalf("error %v, want %q", err, tc.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Stages, tc.want) {
				t.Errorf("got  %+v\nwant %+v", f.Stages, tc.want)
			}
		})
	}
}

// History as the two builders record it (docker 20.10) for the same
// Dockerfile.
const multiDockerfile = `FROM base:1 AS build
WORKDIR /src
COPY src/ ./
RUN make \
 && strip out
FROM scratch
ARG V
COPY --from=build /src/out /app
USER 1000
ENTRYPOINT ["/app"]
`

func TestMatchLayers(t *testing.T) {
	legacy := []Step{
		{CreatedBy: "/bin/sh -c #(nop) COPY file:c46e11e9b8b9f10c59675a15e83e960862c90b958cbacb8a02080b19e688882a in /app "},
		{CreatedBy: "/bin/sh -c #(nop)  USER 1000", EmptyLayer: true},
		{CreatedBy: `/bin/sh -c #(nop)  ENTRYPOINT ["/app"]`, EmptyLayer: true},
	}
	buildkit := []Step{
		{CreatedBy: "COPY /src/out /app # buildkit"},
		{CreatedBy: "USER 1000", EmptyLayer: true},
		{CreatedBy: `ENTRYPOINT ["/app"]`, EmptyLayer: true},
	}
	single := "FROM base:1\nWORKDIR /src\nCOPY . .\nARG TOKEN\nRUN go build \\\n  -o /app .\nCMD [\"/app\"]\n"
	base := []Step{{CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / "}, {CreatedBy: `/bin/sh -c #(nop)  CMD ["sh"]`, EmptyLayer: true}}
	tests := []struct {
		name       string
		dockerfile string
		steps      []Step
		layers     int
		want       []int
		error      string
	}{
		{"multi-stage, legacy", multiDockerfile, legacy, 1, []int{8}, ""},
		{"multi-stage, buildkit", multiDockerfile, buildkit, 1, []int{8}, ""},
		{"one stage on a base, legacy, with a build argument", single, append(base,
			Step{CreatedBy: "/bin/sh -c #(nop) WORKDIR /src"},
			Step{CreatedBy: "/bin/sh -c #(nop) COPY dir:285483a8461a in . "},
			Step{CreatedBy: "/bin/sh -c #(nop)  ARG TOKEN", EmptyLayer: true},
			Step{CreatedBy: "|1 TOKEN=x /bin/sh -c go build   -o /app ."},
			Step{CreatedBy: `/bin/sh -c #(nop)  CMD ["/app"]`, EmptyLayer: true}), 4, []int{0, 2, 3, 5}, ""},
		{"one stage on a base, buildkit, ARG not recorded", single, append(base,
			Step{CreatedBy: "WORKDIR /src", EmptyLayer: true},
			Step{CreatedBy: "COPY . . # buildkit"},
			Step{CreatedBy: "RUN |1 TOKEN=x /bin/sh -c go build   -o /app . # buildkit"},
			Step{CreatedBy: `CMD ["/app"]`, EmptyLayer: true}), 3, []int{0, 3, 5}, ""},
		{"a changed command does not match", single, append(base,
			Step{CreatedBy: "WORKDIR /src", EmptyLayer: true},
			Step{CreatedBy: "COPY . . # buildkit"},
			Step{CreatedBy: "RUN /bin/sh -c go build -o /app ./cmd # buildkit"},
			Step{CreatedBy: `CMD ["/app"]`, EmptyLayer: true}), 3, nil, "line 5 (RUN) does not match"},
		{"a command that only ends the same does not match", "FROM x\nRUN make\n",
			[]Step{{CreatedBy: "/bin/sh -c cd x && make"}}, 1, nil, "line 2 (RUN) does not match"},
		{"another destination does not match", "FROM x\nCOPY a /b\n",
			[]Step{{CreatedBy: "/bin/sh -c #(nop) COPY file:abc in /c "}}, 1, nil, "line 2 (COPY) does not match"},
		{"FROM scratch with entries left over", "FROM scratch\nCOPY a /b\n",
			[]Step{{CreatedBy: "ADD file:x in /"}, {CreatedBy: "COPY a /b # buildkit"}}, 2, nil, "leaves 1 history entries unmatched"},
		{"more instructions than history", "FROM x\nRUN a\nRUN b\n",
			[]Step{{CreatedBy: "RUN /bin/sh -c b # buildkit"}}, 1, nil, "line 2 (RUN) does not match"},
		{"history that disagrees with the layer count", single, base, 5, nil, "names 1 layers, it has 5"},
		{"the exec form", "FROM x\nRUN [\"/bin/make\", \"all\"]\n",
			[]Step{{CreatedBy: "RUN /bin/make all # buildkit"}}, 1, []int{2}, ""},
		{"a stage FROM an earlier stage", "FROM x AS a\nRUN one\nFROM a\nRUN two\n",
			[]Step{{CreatedBy: "ADD file:x in /"}, {CreatedBy: "/bin/sh -c one"}, {CreatedBy: "/bin/sh -c two"}}, 3, []int{0, 2, 4}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tc.dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.MatchLayers(tc.steps, tc.layers)
			if tc.error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.error) {
					t.Fatalf("error %v, want %q (lines %v)", err, tc.error, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("lines %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(multiDockerfile)
	f.Add("FROM x\nRUN <<A <<B\na\nA\nb\nB\n")
	f.Fuzz(func(t *testing.T, s string) {
		df, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		_, _ = df.MatchLayers([]Step{{CreatedBy: s}, {CreatedBy: "RUN " + s}}, 2)
	})
}
