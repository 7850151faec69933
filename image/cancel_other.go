//go:build !unix

package image

import "os"

// pollable is unix only: elsewhere a pipe is read in a goroutine.
func pollable(*os.File) (*os.File, func(), bool) { return nil, nil, false }
