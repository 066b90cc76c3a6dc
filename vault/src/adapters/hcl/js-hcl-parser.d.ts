/** Types for js-hcl-parser@1.0.1 (hashicorp/hcl v1 compiled with GopherJS; ships no types). */
declare module 'js-hcl-parser' {
  interface JsHclParser {
    /** HCL text → JSON text; on a syntax error, returns an error message instead (not JSON). */
    parse(text: string): string;
    /** JSON text → HCL text. */
    stringify(json: string): string;
  }
  const hcl: JsHclParser;
  export default hcl;
}
