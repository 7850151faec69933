package image

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A minimal gRPC client for the few calls layerscope makes to containerd
// (Images.Get, Images.List, Content.Read): unary and server-streaming
// calls over HTTP/2 without TLS on a unix socket, with the messages
// encoded by hand. The containerd Go client, or its API module and
// google.golang.org/grpc, would add about 10 MB to the binary for these.

// grpcConn is one containerd socket.
type grpcConn struct {
	addr   string
	ns     string
	client *http.Client
	tr     *http.Transport
}

func newGRPCConn(addr, ns string) *grpcConn {
	path := strings.TrimPrefix(addr, "unix://")
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: containerdDialTimeout}).DialContext(ctx, "unix", path)
		},
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &grpcConn{addr: addr, ns: ns, client: &http.Client{Transport: tr}, tr: tr}
}

func (c *grpcConn) close() { c.tr.CloseIdleConnections() }

// grpcStatus is a call's non-OK status.
type grpcStatus struct {
	code int
	msg  string
}

// gRPC status codes layerscope tells apart.
const (
	grpcNotFound         = 5
	grpcPermissionDenied = 7
	grpcUnimplemented    = 12
	grpcUnavailable      = 14
)

func (s *grpcStatus) Error() string { return fmt.Sprintf("rpc error %d: %s", s.code, s.msg) }

func grpcCode(err error) int {
	var s *grpcStatus
	if errors.As(err, &s) {
		return s.code
	}
	return -1
}

// maxGRPCMessage bounds one message: containerd sends content in chunks
// of 1 MiB, and a list of images stays well under this.
const maxGRPCMessage = MaxJSON + 1<<20

// call starts method with the request message req, and returns a stream
// of response messages.
func (c *grpcConn) call(ctx context.Context, method string, req []byte) (*grpcStream, error) {
	body := make([]byte, 5, 5+len(req))
	binary.BigEndian.PutUint32(body[1:], uint32(len(req)))
	body = append(body, req...)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost/"+method, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/grpc")
	hr.Header.Set("TE", "trailers")
	hr.Header.Set("containerd-namespace", c.ns)
	resp, err := c.client.Do(hr)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() == nil && (strings.Contains(err.Error(), "HTTP/1.1") || c.speaksHTTP1(ctx)) {
			return nil, &grpcStatus{code: grpcUnimplemented, msg: "it speaks HTTP/1.1, not gRPC (the Docker daemon's socket?)"}
		}
		return nil, &grpcStatus{code: grpcUnavailable, msg: err.Error()}
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/grpc") {
		resp.Body.Close()
		return nil, &grpcStatus{code: grpcUnimplemented, msg: fmt.Sprintf("HTTP %d, %q: not a gRPC server", resp.StatusCode, resp.Header.Get("Content-Type"))}
	}
	if err := statusOf(resp.Header); err != nil { // a trailers-only answer
		resp.Body.Close()
		return nil, err
	}
	return &grpcStream{resp: resp}, nil
}

// speaksHTTP1 reports a socket that answers HTTP/1.1: a server that
// closed an HTTP/2 connection at once may be one (a Docker daemon).
func (c *grpcConn) speaksHTTP1(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	tr := &http.Transport{DialContext: c.tr.DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/", nil)
	if err != nil {
		return false
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.ProtoMajor == 1
}

// unary makes a call that answers one message.
func (c *grpcConn) unary(ctx context.Context, method string, req []byte) ([]byte, error) {
	s, err := c.call(ctx, method, req)
	if err != nil {
		return nil, err
	}
	defer s.close()
	msg, err := s.recv()
	if err == io.EOF {
		return nil, errors.New("no answer")
	}
	return msg, err
}

func statusOf(h http.Header) error {
	v := h.Get("Grpc-Status")
	if v == "" || v == "0" {
		return nil
	}
	code, _ := strconv.Atoi(v)
	msg, _ := url.PathUnescape(h.Get("Grpc-Message"))
	return &grpcStatus{code: code, msg: msg}
}

// grpcStream reads the messages of a call's answer.
type grpcStream struct {
	resp *http.Response
	hdr  [5]byte
}

// recv returns the next message, or io.EOF after the last one when the
// call ended well, or the call's status.
func (s *grpcStream) recv() ([]byte, error) {
	if _, err := io.ReadFull(s.resp.Body, s.hdr[:]); err != nil {
		if err == io.EOF {
			if st := statusOf(s.resp.Trailer); st != nil {
				return nil, st
			}
			if s.resp.Trailer.Get("Grpc-Status") == "" {
				return nil, io.ErrUnexpectedEOF // the answer ended without its status
			}
			return nil, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return nil, err
		}
		return nil, err
	}
	if s.hdr[0] != 0 {
		return nil, errors.New("a compressed gRPC message, which was not asked for")
	}
	n := binary.BigEndian.Uint32(s.hdr[1:])
	if n > maxGRPCMessage {
		return nil, fmt.Errorf("a gRPC message of %d bytes: more than %d", n, maxGRPCMessage)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(s.resp.Body, msg); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return msg, nil
}

func (s *grpcStream) close() { s.resp.Body.Close() }

// Protocol buffers, the little of them these calls use.

func pbString(b []byte, field int, s string) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|2)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func pbInt(b []byte, field int, v int64) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3)
	return binary.AppendUvarint(b, uint64(v))
}

// pbFields calls fn for each field of a message: its number, and its
// bytes (wire type 2) or value (wire type 0); other types are skipped.
func pbFields(msg []byte, fn func(field int, data []byte, v uint64) error) error {
	for len(msg) > 0 {
		tag, n := binary.Uvarint(msg)
		if n <= 0 {
			return errors.New("bad protobuf tag")
		}
		msg = msg[n:]
		field, wire := int(tag>>3), tag&7
		switch wire {
		case 0:
			v, n := binary.Uvarint(msg)
			if n <= 0 {
				return errors.New("bad protobuf varint")
			}
			msg = msg[n:]
			if err := fn(field, nil, v); err != nil {
				return err
			}
		case 2:
			l, n := binary.Uvarint(msg)
			if n <= 0 || l > uint64(len(msg)-n) {
				return errors.New("bad protobuf length")
			}
			data := msg[n : n+int(l)]
			msg = msg[n+int(l):]
			if err := fn(field, data, 0); err != nil {
				return err
			}
		case 1:
			if len(msg) < 8 {
				return errors.New("bad protobuf fixed64")
			}
			msg = msg[8:]
		case 5:
			if len(msg) < 4 {
				return errors.New("bad protobuf fixed32")
			}
			msg = msg[4:]
		default:
			return fmt.Errorf("protobuf wire type %d", wire)
		}
	}
	return nil
}

// ctrDescriptor is containerd's types.Descriptor: media_type 1, digest 2,
// size 3.
type ctrDescriptor struct {
	MediaType string
	Digest    string
	Size      int64
}

// ctrImage is containerd's images.v1.Image: name 1, target 3.
type ctrImage struct {
	Name   string
	Target *ctrDescriptor
}

func parseCtrImage(msg []byte) (*ctrImage, error) {
	im := &ctrImage{}
	err := pbFields(msg, func(f int, data []byte, _ uint64) error {
		switch f {
		case 1:
			im.Name = string(data)
		case 3:
			d := &ctrDescriptor{}
			if err := pbFields(data, func(f int, data []byte, v uint64) error {
				switch f {
				case 1:
					d.MediaType = string(data)
				case 2:
					d.Digest = string(data)
				case 3:
					d.Size = int64(v)
				}
				return nil
			}); err != nil {
				return err
			}
			im.Target = d
		}
		return nil
	})
	return im, err
}
