/**
 * Just enough XML for the ATOM bodies of the Service Bus management API: a reader for the
 * well-formed, namespace-prefixed documents the SDK sends (elements, attributes, text, the five
 * entities and numeric references, CDATA, comments, the declaration), and escaping for writing.
 * Namespaces are not resolved: callers match local names (`p4:type` and `i:type` are both `type`).
 */
export interface XmlElement {
  /** The local name, without any prefix. */
  name: string;
  /** By local name. */
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export class XmlError extends Error {}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith("#x")) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith("#")) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    const known = ENTITIES[entity];
    if (known === undefined) throw new XmlError(`unknown entity ${whole}`);
    return known;
  });
}

const localName = (qualified: string) => qualified.slice(qualified.indexOf(":") + 1);

export function parseXml(source: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (problem: string): never => {
    throw new XmlError(`${problem} at offset ${i}`);
  };
  while (i < source.length) {
    const lt = source.indexOf("<", i);
    const text = source.slice(i, lt === -1 ? source.length : lt);
    const top = stack.at(-1);
    if (text.trim() !== "") {
      if (!top) fail("text outside the root element");
      (top as XmlElement).text += decode(text);
    }
    if (lt === -1) break;
    i = lt;
    if (source.startsWith("<?", i)) {
      const end = source.indexOf("?>", i);
      if (end === -1) fail("unterminated declaration");
      i = end + 2;
    } else if (source.startsWith("<!--", i)) {
      const end = source.indexOf("-->", i);
      if (end === -1) fail("unterminated comment");
      i = end + 3;
    } else if (source.startsWith("<![CDATA[", i)) {
      const end = source.indexOf("]]>", i);
      if (end === -1 || !top) fail("misplaced CDATA");
      (top as XmlElement).text += source.slice(i + 9, end);
      i = end + 3;
    } else if (source.startsWith("</", i)) {
      const end = source.indexOf(">", i);
      if (end === -1) fail("unterminated end tag");
      const name = localName(source.slice(i + 2, end).trim());
      const open = stack.pop();
      if (!open || open.name !== name) fail(`unexpected end tag '${name}'`);
      i = end + 1;
    } else {
      const match = /^<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(
        source.slice(i),
      );
      if (!match) fail("malformed start tag");
      const [whole, qualified, rawAttributes, selfClosing] = match as RegExpExecArray;
      const element: XmlElement = {
        name: localName(qualified as string),
        attributes: {},
        children: [],
        text: "",
      };
      for (const attribute of (rawAttributes as string).matchAll(
        /([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g,
      )) {
        element.attributes[localName(attribute[1] as string)] = decode(attribute[2] ?? attribute[3] ?? "");
      }
      if (top) top.children.push(element);
      else if (root) fail("a second root element");
      else root = element;
      if (selfClosing !== "/") stack.push(element);
      i += (whole as string).length;
    }
  }
  if (!root || stack.length > 0) throw new XmlError("the document is incomplete");
  return root;
}

/** The first child with this local name. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`,
  );
}
