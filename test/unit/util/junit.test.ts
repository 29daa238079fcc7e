import test from 'ava'

import {formatTotals, junitTotals} from '../../../src/util/junit.js'

test('one testsuite (the example\'s phing)', (t) => {
  t.deepEqual(junitTotals('<?xml version="1.0"?>\n<testsuite name="checks-ci" tests="2" failures="0">\n  <testcase name="a"/>\n</testsuite>\n'), {tests: 2, failures: 0, errors: 0, skipped: 0})
})

test('testsuites with totals win; without, the outermost suites are summed, nested ones not again (PHPUnit)', (t) => {
  t.deepEqual(junitTotals('<testsuites tests="10" failures="1" errors="2" skipped="3"><testsuite tests="4"/></testsuites>'), {tests: 10, failures: 1, errors: 2, skipped: 3})
  const phpunit = `<testsuites>
  <testsuite name="" tests="12" assertions="30" errors="1" failures="2" skipped="1" time="1.2">
    <testsuite name="Unit" tests="8" errors="1" failures="0" skipped="1"><testcase name="x"/></testsuite>
    <testsuite name="Functional" tests="4" errors="0" failures="2" skipped="0"/>
  </testsuite>
</testsuites>`
  t.deepEqual(junitTotals(phpunit), {tests: 12, failures: 2, errors: 1, skipped: 1})
  t.deepEqual(junitTotals("<testsuites><testsuite tests='3' failures='1'/><testsuite tests='2'/></testsuites>"), {tests: 5, failures: 1, errors: 0, skipped: 0})
})

test('a file that is not a JUnit report gives nothing', (t) => {
  t.is(junitTotals('<html><body>screenshot index</body></html>'), undefined)
  t.is(junitTotals('<testsuite name="no counts"/>'), undefined)
})

test('totals read as a summary line', (t) => {
  t.is(formatTotals({tests: 120, failures: 2, errors: 1, skipped: 4}), '120 tests, 3 failed, 4 skipped')
  t.is(formatTotals({tests: 1, failures: 0, errors: 0, skipped: 0}), '1 test')
})
