package image

import (
	"sync/atomic"
	"time"
)

// Progress tells, while an image loads, how far it has come. The loader
// writes it; any goroutine may read a Snapshot. A nil *Progress is valid
// and records nothing.
type Progress struct {
	start  time.Time
	phase  atomic.Pointer[string]
	read   atomic.Int64
	total  atomic.Int64
	layers atomic.Int32
}

// NewProgress starts the clock.
func NewProgress() *Progress {
	p := &Progress{start: time.Now()}
	p.setPhase("starting")
	return p
}

// ProgressSnapshot is Progress at one moment.
type ProgressSnapshot struct {
	Phase   string
	Read    int64 // bytes of the source read so far
	Total   int64 // bytes expected, 0 when unknown
	Layers  int   // layers parsed so far
	Elapsed time.Duration
}

func (p *Progress) Snapshot() ProgressSnapshot {
	if p == nil {
		return ProgressSnapshot{}
	}
	return ProgressSnapshot{
		Phase:   *p.phase.Load(),
		Read:    p.read.Load(),
		Total:   p.total.Load(),
		Layers:  int(p.layers.Load()),
		Elapsed: time.Since(p.start),
	}
}

func (p *Progress) setPhase(s string) {
	if p != nil {
		p.phase.Store(&s)
	}
}

func (p *Progress) setTotal(n int64) {
	if p != nil {
		p.total.Store(n)
	}
}

func (p *Progress) add(n int64) {
	if p != nil {
		p.read.Add(n)
	}
}

func (p *Progress) layerDone() {
	if p != nil {
		p.layers.Add(1)
	}
}

// progressReader counts what passes through it into a Progress, and calls
// first once, before the first byte is counted.
type progressReader struct {
	r     interface{ Read([]byte) (int, error) }
	p     *Progress
	first func()
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	if n > 0 {
		if pr.first != nil {
			pr.first()
			pr.first = nil
		}
		pr.p.add(int64(n))
	}
	return n, err
}
