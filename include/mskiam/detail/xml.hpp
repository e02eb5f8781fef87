// A purpose-built extractor for the small XML documents STS answers with: find an element by
// its name, anywhere below a given element, in any order, and read its text. Not an XML parser:
// no DTDs, no validation, no namespaces beyond ignoring a `prefix:`. It only has to be safe on
// any input (truncated, malformed, hostile): every lookup is a bounded forward scan over a
// string_view, nothing recurses, nothing allocates but the decoded text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/detail/encoding.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/config.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

// The content between the start and end tags of the first element named `name` (document
// order, at any depth) inside `doc`, raw (entities not decoded); empty for `<name/>`. nullopt
// when there is no such element or it is not closed (a truncated document).
inline std::optional<std::string_view> xml_element(std::string_view doc, std::string_view name);

// The text of that element: entities decoded, leading and trailing whitespace removed. nullopt
// when the element is absent or unclosed, or holds child elements rather than text.
inline std::optional<std::string> xml_text(std::string_view doc, std::string_view name);

// ---------------------------------------------------------------------------------------------

struct XmlTag {
  enum Kind { start, end, empty, other } kind = other;  // other: `<?...?>`, comments, CDATA, DOCTYPE
  std::string_view local_name;                          // without any `prefix:`
  std::size_t begin = 0;                                // position of `<`
  std::size_t after = 0;                                // position after `>`
};


// The next markup at or after `pos`; nullopt when there is none, or it is cut off.
inline std::optional<XmlTag> xml_next_tag(std::string_view doc, std::size_t pos) {
  const std::size_t lt = doc.find('<', pos);
  if (lt == std::string_view::npos) return std::nullopt;
  XmlTag tag;
  tag.begin = lt;
  const std::string_view rest = doc.substr(lt);
  auto skip_to = [&](std::string_view terminator) -> std::optional<XmlTag> {
    const std::size_t end = doc.find(terminator, lt + 1);
    if (end == std::string_view::npos) return std::nullopt;
    tag.after = end + terminator.size();
    return tag;
  };
  if (rest.substr(0, 4) == "<!--") return skip_to("-->");
  if (rest.substr(0, 9) == "<![CDATA[") return skip_to("]]>");
  if (rest.substr(0, 2) == "<?") return skip_to("?>");
  if (rest.substr(0, 2) == "<!") return skip_to(">");

  std::size_t i = lt + 1;
  tag.kind = XmlTag::start;
  if (i < doc.size() && doc[i] == '/') {
    tag.kind = XmlTag::end;
    ++i;
  }
  const std::size_t name_begin = i;
  while (i < doc.size() && !is_space(doc[i]) && doc[i] != '>' && doc[i] != '/' && doc[i] != '<') ++i;
  if (i >= doc.size() || i == name_begin || doc[i] == '<') return std::nullopt;
  std::string_view qname = doc.substr(name_begin, i - name_begin);
  const std::size_t colon = qname.rfind(':');
  tag.local_name = colon == std::string_view::npos ? qname : qname.substr(colon + 1);
  // Attributes: quoted values may hold `>` and `/`.
  char quote = 0;
  for (; i < doc.size(); ++i) {
    const char c = doc[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      if (tag.kind == XmlTag::start && doc[i - 1] == '/') tag.kind = XmlTag::empty;
      tag.after = i + 1;
      return tag;
    } else if (c == '<') {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

inline std::optional<std::string_view> xml_element(std::string_view doc, std::string_view name) {
  std::size_t pos = 0;
  while (auto tag = xml_next_tag(doc, pos)) {
    pos = tag->after;
    if (tag->local_name != name || tag->kind == XmlTag::end || tag->kind == XmlTag::other) continue;
    if (tag->kind == XmlTag::empty) return std::string_view();
    // Find the matching end tag; elements of the same name may nest.
    const std::size_t content = tag->after;
    int depth = 1;
    std::size_t scan = content;
    while (auto inner = xml_next_tag(doc, scan)) {
      scan = inner->after;
      if (inner->local_name != name) continue;
      if (inner->kind == XmlTag::start) ++depth;
      if (inner->kind == XmlTag::end && --depth == 0)
        return doc.substr(content, inner->begin - content);
    }
    return std::nullopt;  // not closed: truncated
  }
  return std::nullopt;
}

// Decodes the five predefined entities and numeric references; anything else is kept as is.
inline std::string xml_decode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out += raw[i];
      continue;
    }
    const std::size_t semi = raw.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += '&';
      continue;
    }
    const std::string_view entity = raw.substr(i + 1, semi - i - 1);
    std::optional<std::uint32_t> cp;
    if (entity == "amp") cp = '&';
    else if (entity == "lt") cp = '<';
    else if (entity == "gt") cp = '>';
    else if (entity == "quot") cp = '"';
    else if (entity == "apos") cp = '\'';
    else if (entity.size() >= 2 && entity[0] == '#') {
      const bool hex = entity[1] == 'x' || entity[1] == 'X';
      std::uint32_t v = 0;
      bool ok = entity.size() > (hex ? 2u : 1u);
      for (std::size_t k = hex ? 2 : 1; ok && k < entity.size(); ++k) {
        const char c = entity[k];
        std::uint32_t d;
        if (c >= '0' && c <= '9') d = static_cast<std::uint32_t>(c - '0');
        else if (hex && c >= 'a' && c <= 'f') d = static_cast<std::uint32_t>(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F') d = static_cast<std::uint32_t>(c - 'A' + 10);
        else { ok = false; break; }
        v = v * (hex ? 16u : 10u) + d;
        ok = v <= 0x10FFFF;
      }
      if (ok && v != 0) cp = v;
    }
    if (!cp) {
      out += '&';
      continue;
    }
    append_utf8(out, *cp);
    i = semi;
  }
  return out;
}

inline std::optional<std::string> xml_text(std::string_view doc, std::string_view name) {
  const auto raw = xml_element(doc, name);
  if (!raw) return std::nullopt;
  std::string_view content = *raw;
  if (content.find('<') != std::string_view::npos) return std::nullopt;  // child elements
  return xml_decode(trim(content));
}

}  // namespace detail
MSKIAM_END_NAMESPACE
