import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { citedNumbers, customEditorFor, describe as describeItem, findSource, headingLine, locationOf, parseCitationGroup, shortLabel } from '../src/core/citations';
import { Source } from '../src/core/protocol';

describe('citation parsing', () => {
    it('parses single numbers, lists and ranges', () => {
        assert.deepEqual(parseCitationGroup('1'), [1]);
        assert.deepEqual(parseCitationGroup('1, 3'), [1, 3]);
        assert.deepEqual(parseCitationGroup('2-4'), [2, 3, 4]);
        assert.deepEqual(parseCitationGroup('1,3–5'), [1, 3, 4, 5]);
        assert.deepEqual(parseCitationGroup('2, 2, 1'), [2, 1]);
        assert.deepEqual(parseCitationGroup('0'), []);
    });

    it('finds cited numbers in order, ignoring markdown links', () => {
        assert.deepEqual(citedNumbers('A [2]. B [1, 3]. [4](http://x) C [2].'), [2, 1, 3]);
    });
});

describe('locations', () => {
    const s: Source = { n: 2, title: 'T', heading_path: 'T › H', path: 'a/b.md', uri: 'file:///d/a/b.md', start_line: 12, end_line: 20 };

    it('maps the 1-based start line to a 0-based editor line', () => {
        assert.deepEqual(locationOf(s), { uri: 'file:///d/a/b.md', line: 11 });
        assert.deepEqual(locationOf({ ...s, start_line: 0 }), { uri: 'file:///d/a/b.md', line: 0 });
        assert.deepEqual(locationOf({ ...s, start_line: NaN }), { uri: 'file:///d/a/b.md', line: 0 });
    });

    it('falls back to an absolute path when the uri is missing', () => {
        assert.deepEqual(locationOf({ uri: '', path: '/d/a b.md', start_line: 3 }), { uri: 'file:///d/a%20b.md', line: 2 });
        assert.equal(locationOf({ uri: '', path: 'relative.md', start_line: 3 }), undefined);
    });

    it('finds sources by their number, not their position', () => {
        const list = [{ ...s, n: 3 }, { ...s, n: 1, title: 'one' }];
        assert.equal(findSource(list, 1)?.title, 'one');
        assert.equal(findSource(list, 2), undefined);
    });

    it('describes an item by heading path and path:line', () => {
        assert.deepEqual(describeItem(s), { label: 'T › H', detail: 'a/b.md:12' });
        assert.deepEqual(describeItem({ ...s, heading_path: '' }), { label: 'T', detail: 'a/b.md:12' });
    });

    it('labels PDF and PowerPoint sources by page and slide, and carries the label to the opener', () => {
        const pdf: Source = { ...s, path: 'guides/runbook.pdf', uri: 'file:///d/guides/runbook.pdf', start_line: 12, end_line: 12, place: 'p. 12' };
        assert.deepEqual(describeItem(pdf), { label: 'T › H', detail: 'guides/runbook.pdf · p. 12' });
        assert.deepEqual(locationOf(pdf), { uri: 'file:///d/guides/runbook.pdf', line: 11, label: 'p. 12' });
        assert.equal(describeItem({ ...pdf, path: 'deck.pptx', place: 'slide 3' }).detail, 'deck.pptx · slide 3');
        assert.equal(describeItem({ ...s, place: 'lines 12-20' }).detail, 'a/b.md:12');  // text files keep path:line
    });

    it("finds an installed viewer for a PDF from the extensions' custom editors", () => {
        const editors = [
            { viewType: 'hexEditor.hexedit', selector: [{ filenamePattern: '*' }] },
            { viewType: 'pdf.preview', selector: [{ filenamePattern: '*.pdf' }] },
            { viewType: 'office.viewer', selector: [{ filenamePattern: '**/*.PPTX' }] },
            { viewType: 7, selector: [{ filenamePattern: '*.docx' }] },
        ];
        assert.equal(customEditorFor(editors, 'Runbook.PDF'), 'pdf.preview');
        assert.equal(customEditorFor(editors, 'deck.pptx'), 'office.viewer');
        assert.equal(customEditorFor(editors, 'design.docx'), undefined);
        assert.equal(customEditorFor([], 'a.pdf'), undefined);
    });

    it('short labels keep the most specific heading', () => {
        assert.equal(shortLabel({ ...s, heading_path: 'Page › Section › Sub' }), 'Sub');
        assert.equal(shortLabel({ ...s, heading_path: '' }), 'T');
        assert.equal(shortLabel({ ...s, heading_path: '', title: '' }), 'a/b.md');
    });
});

describe('headingLine', () => {
    const doc = ['# Title', '', 'Intro text.', '', '## Section', '', 'Body line 1.', 'Body line 2.', '', 'Setext', '------', '', 'More.'];

    it('moves up to the heading just above the section start', () => {
        assert.equal(headingLine(doc, 6), 4);
        assert.equal(headingLine(doc, 2), 0);
        assert.equal(headingLine(doc, 4), 4);
    });

    it('recognises setext headings', () => {
        assert.equal(headingLine(doc, 12), 9);
    });

    it('stays put when other content is in between or the heading is too far', () => {
        assert.equal(headingLine(doc, 7), 7);
        assert.equal(headingLine(['# H', '', '', '', '', 'x'], 5), 5);
    });

    it('clamps out-of-range lines', () => {
        assert.equal(headingLine(doc, 99), 9);
        assert.equal(headingLine([], 3), 0);
    });
});
