"""Build and adjust `tokenizers` WordPiece tokenizers for bundles.

The SciMult reference uses the slow `BertTokenizer` over BiomedBERT's uncased vocab:
lowercase, strip accents, split Chinese characters, `[CLS] text [SEP]`, with a literal
"[SEP]" inside the text kept as the special token (the title/abstract separator), and
segment ids all 0. `wordpiece_from_vocab` builds the equivalent fast tokenizer.
"""

from __future__ import annotations

from pathlib import Path

from scimult_desktop.errors import ModelError

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def read_vocab(vocab_txt: Path) -> dict[str, int]:
    """vocab.txt (one token a line, id = line number) as a token -> id map."""
    path = Path(vocab_txt)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: cannot read vocabulary ({exc})") from exc
    vocab: dict[str, int] = {}
    for index, token in enumerate(lines):
        token = token.rstrip("\r")
        if token and token not in vocab:
            vocab[token] = index
    missing = [t for t in ("[UNK]", "[CLS]", "[SEP]", "[PAD]") if t not in vocab]
    if missing:
        raise ModelError(f"{path}: not a BERT WordPiece vocabulary (missing {', '.join(missing)})")
    return vocab


def wordpiece_from_vocab(vocab_txt: Path, max_length: int = 512, lowercase: bool = True):
    """A BERT WordPiece `tokenizers.Tokenizer` built from vocab.txt.

    Args:
        vocab_txt: BERT vocabulary file (e.g. BiomedBERT's, 30,522 lines).
        max_length: truncation length, special tokens included.
        lowercase: uncased model (lowercase and strip accents).

    Returns:
        A `tokenizers.Tokenizer` producing `[CLS] text [SEP]`, type ids 0.
    """
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab = read_vocab(vocab_txt)
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=lowercase, lowercase=lowercase
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    # Registering the specials as added tokens is what keeps a literal "[SEP]" in text whole.
    tok.add_special_tokens([t for t in SPECIAL_TOKENS if t in vocab])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:0 [SEP]:0",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    configure_lengths(tok, max_length)
    return tok


def pad_token(tokenizer) -> tuple[str, int]:
    """(token, id) a tokenizer pads with: its own padding setting, else [PAD] (BERT), else <pad> (MPNet/RoBERTa).

    MPNet's vocabulary also holds a [PAD] (id 4) that the model never padded with; its
    tokenizer.json names <pad> (id 1), so the file's own setting comes first.
    """
    padding = tokenizer.padding
    if padding and padding.get("pad_token") and tokenizer.token_to_id(padding["pad_token"]) is not None:
        return padding["pad_token"], int(padding["pad_id"])
    for token in ("[PAD]", "<pad>"):
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return token, token_id
    return "[PAD]", 0


def configure_lengths(tokenizer, max_length: int):
    """Truncate to max_length and pad to the longest text of a batch (with `pad_token`)."""
    tokenizer.enable_truncation(max_length=max_length)
    pad, pad_id = pad_token(tokenizer)
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad, pad_type_id=0)
    return tokenizer


# What the app's "title [SEP] abstract" becomes for a tokenizer without a [SEP] special token.
SEPARATOR_TEXT = "."


def map_separator(tokenizer):
    """Make the app's literal "[SEP]" readable for a tokenizer that lacks it as a special token.

    Papers are embedded as "title [SEP] abstract": a BERT vocabulary keeps "[SEP]" as its
    separator token. MPNet's tokenizer would split it into "[", "sep", "]" (noise words); the
    model never learned a title/abstract separator, so the marker becomes a sentence end,
    "title . abstract", which reads as the plain text such models were trained on. Done by a
    normalizer placed first, so the tokenizer file carries it and every caller gets the same ids.
    """
    from tokenizers import normalizers

    specials = {added.content for added in tokenizer.get_added_tokens_decoder().values()}
    if "[SEP]" in specials or '"pattern":{"String":"[SEP]"}' in tokenizer.to_str().replace(" ", ""):
        return tokenizer  # BERT vocabulary, or already mapped
    replace = normalizers.Replace("[SEP]", SEPARATOR_TEXT)
    tokenizer.normalizer = normalizers.Sequence([replace, tokenizer.normalizer] if tokenizer.normalizer else [replace])
    return tokenizer


def load_tokenizer(path: Path):
    """Read a tokenizer.json, with a clear error naming the file."""
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception on bad files
        raise ModelError(f"{path}: not a valid tokenizer.json ({exc})") from exc


def write_bundle_tokenizer(source_json: Path, out_path: Path, max_length: int) -> Path:
    """Copy a tokenizer.json into a bundle with the bundle's truncation length and batch padding."""
    tok = configure_lengths(load_tokenizer(source_json), max_length)
    tok.save(str(out_path))
    return Path(out_path)
