import test from 'ava'

import {mapLimit} from '../../../src/util/concurrency.js'

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('results come back in the order of the items, not of completion', async (t) => {
  const out = await mapLimit([30, 1, 15, 5], 4, async (ms, i) => {
    await tick(ms)
    return `${i}:${ms}`
  })
  t.deepEqual(out, ['0:30', '1:1', '2:15', '3:5'])
})

test('never more than `limit` at once, and a limit below one still makes progress', async (t) => {
  for (const [limit, expected] of [[2, 2], [0, 1], [-3, 1], [50, 6]] as const) {
    let running = 0
    let peak = 0
    await mapLimit([1, 2, 3, 4, 5, 6], limit, async () => {
      running++
      peak = Math.max(peak, running)
      await tick(2)
      running--
    })
    t.is(peak, expected, `limit ${limit}`)
  }
})

test('the first failure rejects, and items not yet started are not started', async (t) => {
  const started: number[] = []
  await t.throwsAsync(
    mapLimit([1, 2, 3, 4, 5], 1, async (n) => {
      started.push(n)
      if (n === 2) throw new Error('boom')
    }),
    {message: 'boom'},
  )
  t.deepEqual(started, [1, 2])
})

test('no items: no calls, an empty result', async (t) => {
  t.deepEqual(await mapLimit([], 4, async () => t.fail()), [])
})
