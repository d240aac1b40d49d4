// Shared test data (not a test file: node --test runs only *.test.js).
import { Source } from '../src/core/protocol';

export const source = (n: number, extra: Partial<Source> = {}): Source => ({
    n,
    title: `Doc ${n}`,
    heading_path: `Doc ${n} › Section`,
    path: `guide/doc-${n}.md`,
    uri: `file:///docs/guide/doc-${n}.md`,
    start_line: 10 * n,
    end_line: 10 * n + 5,
    ...extra,
});
