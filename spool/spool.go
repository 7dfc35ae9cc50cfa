// Package spool is a first-in, first-out queue of records on disk that
// outlives the process: the proxy keeps in it the spans the collector has
// not taken yet, so that a crash during a collector outage does not cost
// them.
//
// A spool is a directory of append-only segment files, each a sequence of
// frames (length, count and CRC32C, then the payload; see frame.go), and a
// cursor file saying where the first record not yet acknowledged is. What
// it guarantees:
//
//   - At least once. A record appended is handed out by Head, in this
//     process or in the next one that opens the directory, until it is
//     acknowledged (Ack) or dropped over the budget (counted in Stats).
//   - Order. Records come out in the order they went in, across restarts.
//   - The loss window. Append writes the frame to its file at once (one
//     write(2)), so a process that is killed (kill -9, the OOM killer, a
//     crash) loses nothing it appended: the kernel has it. The kernel puts
//     it on the disk at the next fsync, at most FsyncInterval later: a
//     machine that crashes or loses power loses at most the records of the
//     last FsyncInterval.
//   - Duplicates. The cursor is written at every Ack: a process killed
//     between a record's delivery and its Ack hands that one record out
//     again. After a machine crash the Acks of the last FsyncInterval may be
//     lost too, and those records come out again.
//   - Damage. A frame that does not check (a write cut short by a crash, a
//     flipped bit) is skipped: reading resumes at the next frame that does,
//     and the stretch is counted. Damage is never an error.
//   - The budget. The segments take at most MaxBytes (beyond, the oldest
//     segment goes, its records counted as dropped), except that the newest
//     segment is kept whatever its size.
//   - Space. A segment is deleted once every record in it is acknowledged.
//
// A write that fails (a full disk, a file system remounted read-only) fails
// Append, and the spool stays consistent: the caller keeps that record some
// other way. One process at a time: Open locks the directory.
package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxBytes      = 64 << 20
	DefaultFsyncInterval = time.Second
	// retireBytes: a fully acknowledged segment still being written is
	// deleted (and a new one begun at the next Append) once it is this
	// large, or a quarter of SegmentBytes; below, it stays, so that a
	// healthy collector does not cost a file per batch.
	retireBytes = 1 << 20
)

// Options are a spool's settings; the zero value of each means its
// default.
type Options struct {
	// MaxBytes is the budget of the segments on disk.
	MaxBytes int64
	// FsyncInterval is the longest a record appended waits to be synced to
	// the disk.
	FsyncInterval time.Duration
	// SegmentBytes is the size at which a segment is closed and the next
	// begun, the unit in which the oldest records are dropped: by default
	// an eighth of MaxBytes, at most 8 MiB.
	SegmentBytes int64
}

// Record is a record handed out by Head.
type Record struct {
	ID      ID
	Payload []byte
	Count   int // as appended
}

// ID names a record for Ack.
type ID struct {
	seg uint64
	idx int
}

// Stats are a spool's counts.
type Stats struct {
	Records, Count int   // held (appended, not yet acknowledged), and their counts summed
	Bytes          int64 // of the segments on disk
	Dropped        int64 // counts of the records dropped over the budget, since Open
	Damaged        int64 // damaged stretches skipped, since Open
}

type segment struct {
	seq  uint64
	f    *os.File
	size int64
	recs []record
	head int // recs[:head] are acknowledged
}

func (g *segment) unacked() (records, count int) {
	for _, r := range g.recs[g.head:] {
		count += int(r.count)
	}
	return len(g.recs) - g.head, count
}

// Spool is a spool open on its directory. Its methods are safe for
// concurrent use.
type Spool struct {
	dir  string
	opts Options

	mu       sync.Mutex
	segs     []*segment // oldest first
	writing  bool       // the last segment takes appends
	nextSeq  uint64     // of the next segment: above every segment and the cursor's
	cursor   *os.File
	lock     *os.File
	buf      []byte
	bytes    int64
	records  int
	count    int
	dropped  int64
	damaged  int64
	dirty    bool // written since the last sync
	dirDirty bool // files created or removed since
	closed   bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating it if need be) the spool in dir, reads what an
// earlier process left there, and starts syncing every FsyncInterval. It
// fails when the directory cannot be written or another process has it.
func Open(dir string, opts Options) (*Spool, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.FsyncInterval <= 0 {
		opts.FsyncInterval = DefaultFsyncInterval
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = min(opts.MaxBytes/8, 8<<20)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{dir: dir, opts: opts, lock: lock, stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.load(); err != nil {
		s.closeFiles()
		return nil, err
	}
	go s.syncEvery(opts.FsyncInterval)
	return s, nil
}

// load reads the cursor and the segments.
func (s *Spool) load() error {
	cursor, err := os.OpenFile(filepath.Join(s.dir, "cursor"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.cursor = cursor
	curSeg, curOff, curOK := readCursor(cursor)

	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".seg")
		if !ok {
			continue
		}
		if seq, err := strconv.ParseUint(name, 16, 64); err == nil {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	s.nextSeq = 1
	if curOK {
		s.nextSeq = curSeg + 1
	}
	if len(seqs) > 0 {
		s.nextSeq = max(s.nextSeq, seqs[len(seqs)-1]+1)
	}
	for _, seq := range seqs {
		path := s.segPath(seq)
		if curOK && seq < curSeg {
			// Acknowledged whole; its removal was cut short.
			_ = os.Remove(path)
			s.dirDirty = true
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		recs, damaged := scan(data)
		s.damaged += int64(damaged)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		g := &segment{seq: seq, f: f, size: int64(len(data)), recs: recs}
		if curOK && seq == curSeg {
			for g.head < len(g.recs) && g.recs[g.head].off < curOff {
				g.head++
			}
		}
		s.segs = append(s.segs, g)
		s.bytes += g.size
		n, c := g.unacked()
		s.records += n
		s.count += c
	}
	s.removeDone()
	s.enforceBudget()
	return nil
}

// Append adds a record whose payload holds count things (spans), written
// to its segment before it returns. An error (the disk is full or
// read-only) leaves the spool as it was.
func (s *Spool) Append(payload []byte, count int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("spool: closed")
	}
	frameSize := int64(headerSize + len(payload))
	if s.writing {
		if last := s.segs[len(s.segs)-1]; last.size > 0 && last.size+frameSize > s.opts.SegmentBytes {
			s.seal()
		}
	}
	if !s.writing {
		if err := s.begin(); err != nil {
			return err
		}
	}
	g := s.segs[len(s.segs)-1]
	s.buf = appendFrame(s.buf[:0], payload, uint32(count))
	if _, err := g.f.WriteAt(s.buf, g.size); err != nil {
		// Cut what was written; if even that fails, the segment is
		// closed to appends (a reader skips the damaged tail).
		if terr := g.f.Truncate(g.size); terr != nil {
			s.writing = false
		}
		return fmt.Errorf("spool: writing %s: %w", g.f.Name(), err)
	}
	g.recs = append(g.recs, record{off: g.size, size: int32(frameSize), count: int32(count)})
	g.size += frameSize
	s.bytes += frameSize
	s.records++
	s.count += count
	s.dirty = true
	if cap(s.buf) > 1<<20 {
		s.buf = nil // one large record must not be kept for ever
	}
	s.enforceBudget()
	return nil
}

// seal closes the segment being written to appends, synced.
func (s *Spool) seal() {
	_ = s.segs[len(s.segs)-1].f.Sync()
	s.writing = false
}

// begin creates the next segment.
func (s *Spool) begin() error {
	seq := s.nextSeq
	f, err := os.OpenFile(s.segPath(seq), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.nextSeq++
	s.segs = append(s.segs, &segment{seq: seq, f: f})
	s.writing = true
	s.dirDirty = true
	return nil
}

// enforceBudget drops the oldest segments while over the budget, the
// newest excepted.
func (s *Spool) enforceBudget() {
	for s.bytes > s.opts.MaxBytes && len(s.segs) > 1 {
		g := s.segs[0]
		n, c := g.unacked()
		s.records -= n
		s.count -= c
		s.dropped += int64(c)
		s.remove(0)
	}
}

// remove deletes segment i.
func (s *Spool) remove(i int) {
	g := s.segs[i]
	g.f.Close()
	_ = os.Remove(g.f.Name())
	s.bytes -= g.size
	s.segs = append(s.segs[:i], s.segs[i+1:]...)
	s.dirDirty = true
}

// removeDone deletes the segments whose records are all acknowledged: the
// older ones, and the one being written once it is retireBytes large.
func (s *Spool) removeDone() {
	for len(s.segs) > 0 {
		g := s.segs[0]
		last := len(s.segs) == 1
		if g.head < len(g.recs) || (last && s.writing && g.size < min(retireBytes, s.opts.SegmentBytes/4)) {
			return
		}
		if last {
			s.writing = false
		}
		s.remove(0)
	}
}

// Head is the oldest record not yet acknowledged; false when there is
// none. A record that cannot be read back is skipped, counted as damage.
func (s *Spool) Head() (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed {
		var g *segment
		for _, c := range s.segs {
			if c.head < len(c.recs) {
				g = c
				break
			}
		}
		if g == nil {
			return Record{}, false
		}
		r := g.recs[g.head]
		buf := make([]byte, r.size)
		if _, err := g.f.ReadAt(buf, r.off); err == nil {
			if n, c, ok := checkFrame(buf, 0); ok && n == len(buf) {
				return Record{ID: ID{seg: g.seq, idx: g.head}, Payload: buf[headerSize:], Count: int(c)}, true
			}
		}
		s.damaged++
		s.ackLocked(ID{seg: g.seq, idx: g.head})
	}
	return Record{}, false
}

// Ack marks the record Head handed out as delivered; a record dropped in
// the meantime is ignored.
func (s *Spool) Ack(id ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.ackLocked(id)
	}
}

func (s *Spool) ackLocked(id ID) {
	for _, g := range s.segs {
		if g.seq != id.seg || g.head != id.idx || g.head >= len(g.recs) {
			continue
		}
		r := g.recs[g.head]
		g.head++
		s.records--
		s.count -= int(r.count)
		next := g.size
		if g.head < len(g.recs) {
			next = g.recs[g.head].off
		}
		s.writeCursor(g.seq, next)
		s.removeDone()
		return
	}
}

// writeCursor records where the first unacknowledged record is: the
// segment and the offset in it. A write cut short fails its checksum, and
// the next Open starts from the oldest segment: duplicates, never a loss.
func (s *Spool) writeCursor(seg uint64, off int64) {
	var b [20]byte
	binary.LittleEndian.PutUint64(b[0:], seg)
	binary.LittleEndian.PutUint64(b[8:], uint64(off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	if _, err := s.cursor.WriteAt(b[:], 0); err == nil {
		s.dirty = true
	}
}

func readCursor(f *os.File) (seg uint64, off int64, ok bool) {
	var b [20]byte
	if _, err := f.ReadAt(b[:], 0); err != nil {
		return 0, 0, false
	}
	if crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint64(b[0:]), int64(binary.LittleEndian.Uint64(b[8:])), true
}

// Stats reads the counts.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Records: s.records, Count: s.count, Bytes: s.bytes, Dropped: s.dropped, Damaged: s.damaged}
}

// syncEvery syncs what was written, every interval, until Close.
func (s *Spool) syncEvery(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.Sync()
		}
	}
}

// Sync puts what was appended and acknowledged on the disk now.
func (s *Spool) Sync() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.dirty {
		// Under the lock: a segment must not be closed under the sync.
		// The sync runs at most once an interval, off the request path.
		if s.writing {
			_ = s.segs[len(s.segs)-1].f.Sync()
		}
		_ = s.cursor.Sync()
		s.dirty = false
	}
	if s.dirDirty {
		if d, err := os.Open(s.dir); err == nil {
			_ = d.Sync()
			d.Close()
		}
		s.dirDirty = false
	}
}

// Close syncs and closes the spool, once; what it holds stays for the next
// Open.
func (s *Spool) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.Sync()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed = true
		s.closeErr = s.closeFiles()
	})
	return s.closeErr
}

func (s *Spool) closeFiles() error {
	var errs []error
	for _, g := range s.segs {
		errs = append(errs, g.f.Close())
	}
	if s.cursor != nil {
		errs = append(errs, s.cursor.Close())
	}
	errs = append(errs, s.lock.Close()) // releases the lock
	return errors.Join(errs...)
}

func (s *Spool) segPath(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016x.seg", seq))
}
