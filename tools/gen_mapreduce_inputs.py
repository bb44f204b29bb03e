#!/usr/bin/env python3
"""Generates the MapReduce real-mode inputs under data/mapreduce/ (byte-identical on every run).

texts/*.txt    English-like prose for wordcount, inverted-index and grep: a Zipf-distributed
               vocabulary (a few hundred common English words, then 20,000 made-up words
               built from syllables), sentences with punctuation, paragraphs, lines of at most
               70 characters. Each file also draws on a small vocabulary of its own (its "topic"),
               so the inverted index has words found in one file only.
records/*.txt  TeraGen-like 100-byte records for sort (Dean & Ghemawat §5.3): a 10-byte key of
               random printable characters, the record number, filler, '\\n'.

Randomness is our own xoshiro256** seeded through splitmix64 (as common/rng.cpp), never Python's
`random`, whose methods have changed between versions: the files depend only on this script.

    python3 tools/gen_mapreduce_inputs.py            # writes data/mapreduce/{texts,records}/
    python3 tools/gen_mapreduce_inputs.py --check    # exits 1 if a file differs from the output
"""

import argparse
import hashlib
import pathlib
import sys

MASK = (1 << 64) - 1


class Rng:
    """xoshiro256** seeded through splitmix64; integers only, so the output is exact."""

    def __init__(self, seed):
        self.s = []
        x = seed & MASK
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def below(self, n):
        """Uniform in [0, n) by rejection (no modulo bias)."""
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            x = self.next()
            if x < limit:
                return x % n

    def between(self, lo, hi):
        return lo + self.below(hi - lo + 1)

    def chance(self, numerator, denominator):
        return self.below(denominator) < numerator

    def pick(self, items):
        return items[self.below(len(items))]


# The commonest English words, roughly by frequency (function words first). Facts about the
# language, not anyone's text.
COMMON = """
the of and to a in is it you that he was for on are with as his they be at one have this from
or had by not word but what some we can out other were all there when up use your how said an
each she which do their time if will way about many then them write would like so these her
long make thing see him two has look more day could go come did number sound no most people my
over know water than call first who may down side been now find any new work part take get
place made live where after back little only round man year came show every good me give our
under name very through just form sentence great think say help low line differ turn cause much
mean before move right boy old too same tell does set three want air well also play small end
put home read hand port large spell add even land here must big high such follow act why ask
men change went light kind off need house picture try us again animal point mother world near
build self earth father head stand own page should country found answer school grow study still
learn plant cover food sun four between state keep eye never last let thought city tree cross
farm hard start might story saw far sea draw left late run while press close night real life
few north open seem together next white children begin got walk example ease paper group always
music those both mark often letter until mile river car feet care second book carry took
science eat room friend began idea fish mountain stop once base hear horse cut sure watch color
face wood main enough plain girl usual young ready above ever red list though feel talk bird
soon body dog family direct pose leave song measure door product black short numeral class wind
question happen complete ship area half rock order fire south problem piece told knew pass since
top whole king space heard best hour better true during hundred five remember step early hold
west ground interest reach fast verb sing listen six table travel less morning ten simple
several vowel toward war lay against pattern slow center love person money serve appear road
map rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark
machine note wait plan figure star box noun field rest correct able pound done beauty drive
stood contain front teach week final gave green oh quick develop ocean warm free minute strong
special mind behind clear tail produce fact street inch multiply nothing course stay wheel full
force blue object decide surface deep moon island foot system busy test record boat common gold
possible plane stead dry wonder laugh thousand ago ran check game shape equate hot miss brought
heat snow tire bring yes distant fill east paint language among
""".split()

# Topic words: each file favours its own list (the inverted index then has words found in one
# file only, and grep has file-specific patterns).
TOPICS = {
    "harbour": "harbour quay lighthouse tide anchor gull pilot tugboat wharf ferry mooring "
               "breakwater fog buoy lantern cargo".split(),
    "orchard": "orchard apple pear blossom ladder cider graft pruning frost hive bough "
               "bushel orchardist harvest windfall".split(),
    "mill": "mill millstone wheelwright grain sack flour weir sluice hopper chaff miller "
            "bran grindstone axle".split(),
    "letters": "dearest postscript envelope inkwell regards yours sincerely stamp postmark "
               "correspondence parcel seal quill courier".split(),
    "voyage": "voyage mast compass starboard larboard galley hull rigging bosun latitude "
              "longitude sextant squall cabin logbook".split(),
}
# (file name, topic, approximate size in bytes)
TEXTS = [
    ("harbour.txt", "harbour", 620_000),
    ("orchard.txt", "orchard", 480_000),
    ("mill.txt", "mill", 350_000),
    ("letters.txt", "letters", 540_000),
    ("voyage.txt", "voyage", 510_000),
]
# A few exact rare phrases planted once each, for grep tests with a known answer.
PLANTED = {
    "harbour.txt": "the lighthouse keeper counted seventeen gulls",
    "mill.txt": "the miller kept a ledger of every sack",
    "voyage.txt": "the sextant was found beneath the galley stove",
}

SYLLABLES = ("ba be bi bo bu ca ce co da de di do fa fe fi fo ga ge go ha he hi ho la le li lo "
             "lu ma me mi mo mu na ne ni no ra re ri ro ru sa se si so ta te ti to tu va ve vi "
             "vo wa we wi za zo al an ar el en er il in or ur ast end ing ion ter ver").split()
MADE_UP = 20000         # made-up words after the common ones (the long tail)
ZIPF_SCALE = 1 << 26    # weight of the commonest word (the Zipf sampler is exact integers)
LINE_WIDTH = 70
SEED = 20040601         # OSDI 2004


def made_up_words(rng, count, taken):
    words = []
    seen = set(taken)
    while len(words) < count:
        w = "".join(rng.pick(SYLLABLES) for _ in range(rng.between(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def zipf_sampler(rng, vocabulary):
    """Zipf (s = 1) over the ranks of `vocabulary`, as a table of cumulative integer weights
    (exact: no floating point sum whose rounding could differ)."""
    n = len(vocabulary)
    # weight of rank k (1-based) = floor(ZIPF_SCALE / k): integers, positive for every rank.
    weights = [ZIPF_SCALE // (rank + 1) for rank in range(n)]
    cumulative = []
    total = 0
    for w in weights:
        total += w
        cumulative.append(total)

    def sample():
        x = rng.below(total)
        lo, hi = 0, n - 1
        while lo < hi:  # first index with cumulative > x
            mid = (lo + hi) // 2
            if cumulative[mid] > x:
                hi = mid
            else:
                lo = mid + 1
        return vocabulary[lo]

    return sample


def sentence(rng, word, topic):
    words = []
    for _ in range(rng.between(4, 22)):
        words.append(rng.pick(topic) if rng.chance(1, 25) else word())
    words[0] = words[0].capitalize()
    out = []
    for i, w in enumerate(words):
        if i > 0 and i < len(words) - 1 and rng.chance(1, 12):
            w += rng.pick([",", ",", ",", ";", ":"])
        if rng.chance(1, 200):
            w = w + "'s"
        out.append(w)
    if rng.chance(1, 40):  # a number now and then: digits separate words
        out.insert(rng.below(len(out)), str(rng.between(1, 1900)))
    if rng.chance(1, 30):  # a hyphenated pair
        i = rng.below(len(out))
        out[i] = out[i].rstrip(",;:") + "-" + word()
    text = " ".join(out) + rng.pick([".", ".", ".", ".", ".", "?", "!"])
    if rng.chance(1, 15):
        text = '"' + text + '"'
    return text


def wrap(paragraph):
    lines, line = [], ""
    for w in paragraph.split(" "):
        if line and len(line) + 1 + len(w) > LINE_WIDTH:
            lines.append(line)
            line = w
        else:
            line = w if not line else line + " " + w
    if line:
        lines.append(line)
    return "\n".join(lines) + "\n"


def gen_text(name, topic, size):
    rng = Rng(SEED ^ int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little"))
    vocab_rng = Rng(SEED)  # the same vocabulary in every file
    vocabulary = COMMON + made_up_words(vocab_rng, MADE_UP, COMMON + TOPICS[topic])
    word = zipf_sampler(rng, vocabulary)
    topic_words = TOPICS[topic]
    planted = PLANTED.get(name)
    parts, length, paragraphs = [], 0, 0
    while length < size:
        sentences = [sentence(rng, word, topic_words) for _ in range(rng.between(2, 8))]
        paragraphs += 1
        if planted and paragraphs == 40:  # a paragraph of its own: one line, whole for grep
            sentences = [planted[0].upper() + planted[1:] + "."]
        p = wrap(" ".join(sentences))
        parts.append(p if not parts else "\n" + p)
        length += len(parts[-1])
    return "".join(parts)


PRINTABLE = [chr(c) for c in range(ord(" "), ord("~") + 1)]


def gen_records(name, first, count):
    """TeraGen-like: key (10 printable bytes), 2 spaces, record number (32 hex digits),
    2 spaces, filler (53 bytes, 4-character blocks of one letter drawn from the record
    number as TeraGen does), '\\n': 100 bytes."""
    rng = Rng(SEED ^ int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little"))
    lines = []
    for row in range(first, first + count):
        key = "".join(rng.pick(PRINTABLE) for _ in range(10))
        filler = "".join(chr(ord("A") + (row + i) % 26) * 4 for i in range(14))[:53]
        line = f"{key}  {row:032X}  {filler}"
        assert len(line) == 99, len(line)
        lines.append(line + "\n")
    return "".join(lines)


RECORDS = [("teragen-0.txt", 0, 5000), ("teragen-1.txt", 5000, 5000)]


def outputs():
    for name, topic, size in TEXTS:
        yield pathlib.Path("texts") / name, gen_text(name, topic, size)
    for name, first, count in RECORDS:
        yield pathlib.Path("records") / name, gen_records(name, first, count)


def main():
    root = pathlib.Path(__file__).resolve().parent.parent / "data" / "mapreduce"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=root, help="output directory")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing them")
    args = parser.parse_args()
    differ = False
    for rel, text in outputs():
        path = args.out / rel
        data = text.encode("ascii")
        if args.check:
            same = path.exists() and path.read_bytes() == data
            differ |= not same
            print(f"{'ok  ' if same else 'DIFF'} {rel} {len(data)} bytes")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"wrote {rel} {len(data)} bytes sha256 {hashlib.sha256(data).hexdigest()[:16]}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
