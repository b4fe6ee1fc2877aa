import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toCsv } from './csv.ts';

describe('CSV export', () => {
  it('quotes what needs quoting, leaves numbers and empty cells plain', () => {
    const csv = toCsv(
      ['a', 'b', 'c'],
      [
        { a: 'x,y', b: 'say "hi"', c: null },
        { a: -1.5, b: 'line\nbreak', c: 3 },
      ],
    );
    assert.equal(csv, 'a,b,c\r\n"x,y","say ""hi""",\r\n-1.5,"line\nbreak",3');
  });

  it('defuses spreadsheet formulas', () => {
    assert.equal(toCsv(['a'], [{ a: '=HYPERLINK("x")' }]), 'a\r\n"\'=HYPERLINK(""x"")"');
  });
});
