package image

import (
	"strings"
	"testing"
)

func TestProtobufFields(t *testing.T) {
	desc := pbInt(pbString(pbString(nil, 1, mediaOCIManifest), 2, "sha256:"+strings.Repeat("a", 64)), 3, 1234)
	img := pbString(nil, 1, "docker.io/library/app:1")
	img = pbString(img, 2, "a label entry, skipped")
	img = pbString(img, 3, string(desc))
	tests := []struct {
		name    string
		msg     []byte
		want    *ctrImage
		wantErr string
	}{
		{"image", img, &ctrImage{Name: "docker.io/library/app:1", Target: &ctrDescriptor{MediaType: mediaOCIManifest, Digest: "sha256:" + strings.Repeat("a", 64), Size: 1234}}, ""},
		{"fixed fields skipped", append(append([]byte{}, img...), 0x49, 1, 2, 3, 4, 5, 6, 7, 8, 0x55, 1, 2, 3, 4), &ctrImage{Name: "docker.io/library/app:1", Target: &ctrDescriptor{MediaType: mediaOCIManifest, Digest: "sha256:" + strings.Repeat("a", 64), Size: 1234}}, ""},
		{"length past the end", []byte{0x0a, 0x7f, 'x'}, nil, "bad protobuf length"},
		{"huge length", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, nil, "bad protobuf length"},
		{"truncated varint", []byte{0x08, 0x80}, nil, "bad protobuf varint"},
		{"truncated fixed64", []byte{0x09, 1, 2}, nil, "bad protobuf fixed64"},
		{"group wire type", []byte{0x0b}, nil, "protobuf wire type 3"},
		{"bad target", pbString(nil, 3, "\x0a\x05ab"), nil, "bad protobuf length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCtrImage(tc.msg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Name != tc.want.Name || got.Target == nil || *got.Target != *tc.want.Target {
				t.Errorf("got %+v %+v (%v), want %+v %+v", got, got.Target, err, tc.want, tc.want.Target)
			}
		})
	}
}

func FuzzProtobuf(f *testing.F) {
	f.Add(pbString(pbString(nil, 1, "name"), 3, string(pbInt(pbString(nil, 2, "sha256:x"), 3, 5))))
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, msg []byte) {
		parseCtrImage(msg) // an error, never a panic
	})
}
