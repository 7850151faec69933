package image

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaxJSON bounds every metadata document (manifest, index, config): real
// ones are kilobytes; a long history stays well under this.
const MaxJSON = 8 << 20

func decodeJSON(data []byte, what string, v any) error {
	if len(data) > MaxJSON {
		return fmt.Errorf("%s is larger than %d bytes", what, MaxJSON)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// looksJSON reports whether a blob's first bytes open a JSON object or
// array (manifest.json is an array).
func looksJSON(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && (head[0] == '{' || head[0] == '[')
}

// dockerManifest is one entry of a `docker save` manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Descriptor points at a blob, as in the OCI image spec.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *Platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ociIndex is an OCI image index (or a Docker manifest list).
type ociIndex struct {
	MediaType string       `json:"mediaType"`
	Manifests []descriptor `json:"manifests"`
}

// ociManifest is an OCI image manifest (or a Docker v2 schema 2 manifest).
type ociManifest struct {
	MediaType string       `json:"mediaType"`
	Config    descriptor   `json:"config"`
	Layers    []descriptor `json:"layers"`
	Manifests []descriptor `json:"manifests"` // set when this is an index after all
	// Annotations may name the image's base (AnnotationBaseName).
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Platform is an image's os/architecture[/variant].
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Config is what layerscope reads of an image config.
type Config struct {
	Platform
	User       string
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
	Labels     map[string]string
	History    []History
	DiffIDs    []string
}

// History is one entry of the image config's history.
type History struct {
	Created    string `json:"created,omitempty"`
	CreatedBy  string `json:"created_by,omitempty"`
	Comment    string `json:"comment,omitempty"`
	EmptyLayer bool   `json:"empty_layer,omitempty"`
}

type rawConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant"`
	Config       struct {
		User       string            `json:"User"`
		Env        []string          `json:"Env"`
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		WorkingDir string            `json:"WorkingDir"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []History `json:"history"`
}

func parseConfig(data []byte) (*Config, error) {
	var rc rawConfig
	if err := decodeJSON(data, "image config", &rc); err != nil {
		return nil, err
	}
	c := rc.Config
	return &Config{
		Platform:   Platform{OS: rc.OS, Architecture: rc.Architecture, Variant: rc.Variant},
		User:       c.User,
		Env:        c.Env,
		Entrypoint: c.Entrypoint,
		Cmd:        c.Cmd,
		WorkingDir: c.WorkingDir,
		Labels:     c.Labels,
		History:    rc.History,
		DiffIDs:    rc.RootFS.DiffIDs,
	}, nil
}
