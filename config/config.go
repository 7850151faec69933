// Package config reads layerscope's CI settings from .layerscope.yaml, and
// dive's .dive-ci so that dive users keep their pipelines.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"

	"github.com/dustin/go-humanize"
	"go.yaml.in/yaml/v3"
)

// Default file names, looked for in the working directory.
const (
	DefaultFile = ".layerscope.yaml"
	DiveFile    = ".dive-ci"
)

// maxFile bounds a config file.
const maxFile = 1 << 20

// Limit is one threshold. From says where it was set ("flag", "default",
// or a file name); Off means it was switched off ("disabled").
type Limit struct {
	Value float64
	From  string
	Off   bool
}

// Set reports whether the limit is in force.
func (l Limit) Set() bool { return l.From != "" && !l.Off }

// Limits are the CI thresholds.
type Limits struct {
	MaxWaste        Limit // bytes
	MaxWastePercent Limit // percent of what the build added
	MinEfficiency   Limit // 0 to 1
	// StrictWaste, when set with a value other than 0, has the waste rules
	// judge every wasted byte, package-database rewrites too.
	StrictWaste Limit
	// WasteFloor is the waste (bytes) below which the percent and
	// efficiency rules do not judge; 0 judges any waste.
	WasteFloor Limit
	// MaxGrowth and MaxGrowthPercent are layerscope diff's growth rules:
	// the content bytes NEW may add, in bytes and in percent of OLD's.
	MaxGrowth        Limit
	MaxGrowthPercent Limit
}

// Ignore suppresses findings: by rule or category, and a path glob.
type Ignore struct {
	Rule     string `yaml:"rule"`
	Category string `yaml:"category"`
	Path     string `yaml:"path"`
	Reason   string `yaml:"reason"`
}

// Config is what a config file says.
type Config struct {
	File    string
	Limits  Limits
	FailOn  []string // nil when the file does not say
	Ignore  []Ignore
	Disable []string // rule ids switched off
	Add     []RuleSpec
	// Dive is true when the limits came from dive's vocabulary: they are
	// judged on layerscope's figures, which never count the kept copy.
	Dive bool
	// Warnings say what a dive file held that layerscope does not read.
	Warnings []string
}

// RuleSpec is a leftover rule a config adds (see package rules).
type RuleSpec struct {
	ID       string   `yaml:"id"`
	Category string   `yaml:"category"`
	Severity string   `yaml:"severity"`
	Paths    []string `yaml:"paths"`
	Except   []string `yaml:"except"`
	What     string   `yaml:"what"`
	Advice   string   `yaml:"advice"`
}

type file struct {
	Rules   map[string]yaml.Node `yaml:"rules"`
	FailOn  yaml.Node            `yaml:"fail-on"`
	Ignore  []Ignore             `yaml:"ignore"`
	Disable []string             `yaml:"disable"`
	Add     []RuleSpec           `yaml:"add"`
}

// Find returns the config file to read: path when given (it must exist),
// else .layerscope.yaml, else .dive-ci in the working directory, else "".
func Find(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("config file: %w", err)
		}
		return path, nil
	}
	for _, p := range []string{DefaultFile, DiveFile} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config file: %w", err)
		}
	}
	return "", nil
}

// Load reads a config file. An empty path gives an empty Config. Only a
// regular file is read: a FIFO or a device would block or never end.
func Load(path string) (*Config, error) {
	c := &Config{File: path}
	if path == "" {
		return c, nil
	}
	// O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config file %s is not a regular file (%s)", path, kind(st.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("config file %s is larger than %d bytes", path, maxFile)
	}
	dive := filepath.Base(path) == DiveFile
	if err := c.parse(data, dive); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return c, nil
}

// kind names a file mode that is not a regular file.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a file"
}

// parse reads a config document. A dive file is read as dive reads it:
// keys layerscope does not know (dive's plugins, a plugin's rules) are
// ignored with a warning, where in .layerscope.yaml they are an error.
func (c *Config) parse(data []byte, dive bool) error {
	var f file
	if dive {
		var err error
		if data, err = c.dropUnknownDiveKeys(data); err != nil {
			return err
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && err != io.EOF {
		return errors.New(oneLine(err.Error()))
	}
	for key, node := range f.Rules {
		if node.Kind != yaml.ScalarNode {
			return fmt.Errorf("rules.%s: want a single value", key)
		}
		if err := c.setRule(key, strings.TrimSpace(node.Value)); err != nil {
			return fmt.Errorf("rules.%s: %w", key, err)
		}
	}
	switch f.FailOn.Kind {
	case 0:
	case yaml.ScalarNode: // given, so never nil: an empty one is an error, not the default
		c.FailOn = append([]string{}, SplitList(f.FailOn.Value)...)
	case yaml.SequenceNode:
		c.FailOn = []string{}
		for _, n := range f.FailOn.Content {
			c.FailOn = append(c.FailOn, SplitList(n.Value)...)
		}
	default:
		return errors.New("fail-on: want a list")
	}
	for i, ig := range f.Ignore {
		if ig.Rule == "" && ig.Category == "" && ig.Path == "" {
			return fmt.Errorf("ignore[%d]: give a rule, a category or a path", i)
		}
		if ig.Reason == "" {
			return fmt.Errorf("ignore[%d]: give a reason", i)
		}
	}
	c.Ignore, c.Disable, c.Add = f.Ignore, f.Disable, f.Add
	return nil
}

// dropUnknownDiveKeys removes from a dive file the keys that neither dive's
// rules nor layerscope's own settings name, noting each in c.Warnings.
func (c *Config) dropUnknownDiveKeys(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errors.New(oneLine(err.Error()))
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return data, nil // empty, or not a mapping: the strict decoder says why
	}
	known := map[string]bool{}
	t := reflect.TypeFor[file]()
	for i := range t.NumField() {
		known[strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]] = true
	}
	var ignored []string
	top := doc.Content[0]
	top.Content = keepKeys(top.Content, func(k, v *yaml.Node) bool {
		if !known[k.Value] {
			ignored = append(ignored, k.Value)
			return false
		}
		if k.Value == "rules" && v.Kind == yaml.MappingNode {
			v.Content = keepKeys(v.Content, func(k, _ *yaml.Node) bool {
				var probe Config
				if errors.Is(probe.setRule(k.Value, "off"), errUnknownRule) {
					ignored = append(ignored, "rules."+k.Value)
					return false
				}
				return true
			})
		}
		return true
	})
	if len(ignored) == 0 {
		return data, nil
	}
	c.Warnings = append(c.Warnings, fmt.Sprintf("%s: ignored what layerscope does not read: %s", c.File, strings.Join(ignored, ", ")))
	return yaml.Marshal(&doc)
}

// keepKeys filters a mapping node's key/value pairs.
func keepKeys(kv []*yaml.Node, keep func(k, v *yaml.Node) bool) []*yaml.Node {
	var out []*yaml.Node
	for i := 0; i+1 < len(kv); i += 2 {
		if keep(kv[i], kv[i+1]) {
			out = append(out, kv[i], kv[i+1])
		}
	}
	return out
}

var errUnknownRule = errors.New("unknown rule (want max-waste, max-waste-percent, min-efficiency, strict-waste, waste-floor, max-growth, max-growth-percent, or dive's lowestEfficiency, highestWastedBytes, highestUserWastedPercent)")

// setRule maps one key of rules: to a limit, in layerscope's names or
// dive's.
func (c *Config) setRule(key, value string) error {
	var (
		l     *Limit
		parse func(string) (float64, error)
	)
	switch key {
	case "max-waste":
		l, parse = &c.Limits.MaxWaste, ParseSize
	case "max-waste-percent":
		l, parse = &c.Limits.MaxWastePercent, ParsePercent
	case "min-efficiency":
		l, parse = &c.Limits.MinEfficiency, ParseFraction
	case "highestWastedBytes":
		l, parse, c.Dive = &c.Limits.MaxWaste, ParseSize, true
	case "highestUserWastedPercent":
		c.Dive = true
		l, parse = &c.Limits.MaxWastePercent, func(s string) (float64, error) {
			f, err := ParseFraction(s)
			return f * 100, err
		}
	case "lowestEfficiency":
		l, parse, c.Dive = &c.Limits.MinEfficiency, ParseFraction, true
	case "strict-waste":
		l, parse = &c.Limits.StrictWaste, ParseBool
	case "waste-floor":
		l, parse = &c.Limits.WasteFloor, ParseSize
	case "max-growth":
		l, parse = &c.Limits.MaxGrowth, ParseSize
	case "max-growth-percent":
		l, parse = &c.Limits.MaxGrowthPercent, ParsePercent
	default:
		return errUnknownRule
	}
	l.From = c.File
	if IsOff(value) {
		l.Off = true
		return nil
	}
	v, err := parse(value)
	if err != nil {
		return err
	}
	l.Value = v
	return nil
}

// IsOff reports a value that switches a rule off.
func IsOff(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "disabled", "off", "none", "false":
		return true
	}
	return false
}

// ParseSize reads a size as go-humanize does: "50MB" is 50×10^6 bytes,
// "50MiB" 50×2^20, a bare number is bytes.
func ParseSize(s string) (float64, error) {
	n, err := humanize.ParseBytes(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("bad size %q (want e.g. 50MB or 20MiB)", s)
	}
	return float64(n), nil
}

// ParseBool reads true or false (1 or 0).
func ParseBool(s string) (float64, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("bad value %q (want true or false)", s)
	}
	if b {
		return 1, nil
	}
	return 0, nil
}

// ParsePercent reads a percentage from 0 to 100 ("10" or "10%").
func ParsePercent(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || f < 0 || f > 100 {
		return 0, fmt.Errorf("bad percentage %q (want 0 to 100)", s)
	}
	return f, nil
}

// ParseFraction reads a number from 0 to 1.
func ParseFraction(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 1 {
		return 0, fmt.Errorf("bad fraction %q (want 0 to 1)", s)
	}
	return f, nil
}

// SplitList splits "a,b c" into its items.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
