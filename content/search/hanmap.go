package search

// hanMap maps Han term keys (see hanKey) to term ids: an open-addressing
// hash table with linear probing. With a million distinct bigrams it does
// one cache miss a lookup where the built-in map does two, and indexing
// 100,000 notices is mostly such lookups.
type hanMap struct {
	slots []hanSlot // key 0 = empty (no valid key is 0: a Han rune is never 0)
	n     int
	shift uint
}

// hanSlot keeps key and id together: one cache line read per probe.
type hanSlot struct {
	key uint64
	id  int32
}

func newHanMap(hint int) *hanMap {
	size := 1024
	for size*3 < 4*hint {
		size *= 2
	}
	m := &hanMap{}
	m.alloc(size)
	return m
}

func (m *hanMap) alloc(size int) {
	m.slots = make([]hanSlot, size)
	m.shift = 64
	for s := size; s > 1; s >>= 1 {
		m.shift--
	}
}

func (m *hanMap) slot(key uint64) int {
	return int((key * 0x9E3779B97F4A7C15) >> m.shift)
}

// get returns the id of key.
func (m *hanMap) get(key uint64) (int32, bool) {
	mask := len(m.slots) - 1
	for i := m.slot(key); ; i = (i + 1) & mask {
		switch m.slots[i].key {
		case key:
			return m.slots[i].id, true
		case 0:
			return 0, false
		}
	}
}

// put sets the id of a key that is not in the map yet.
func (m *hanMap) put(key uint64, id int32) {
	if 4*(m.n+1) > 3*len(m.slots) { // load factor at most 3/4
		old := m.slots
		m.alloc(2 * len(old))
		m.n = 0
		for _, s := range old {
			if s.key != 0 {
				m.put(s.key, s.id)
			}
		}
	}
	mask := len(m.slots) - 1
	i := m.slot(key)
	for m.slots[i].key != 0 {
		i = (i + 1) & mask
	}
	m.slots[i] = hanSlot{key, id}
	m.n++
}
