import test from 'ava'

import {runGraph} from '../../../src/images/scheduler.js'

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms))

test('runs independent jobs in parallel up to the limit, and dependents after their dependencies', async (t) => {
  let running = 0
  let peak = 0
  const order: string[] = []
  const outcomes = await runGraph(
    [
      {id: 'a', deps: []},
      {id: 'b', deps: []},
      {id: 'c', deps: []},
      {id: 'd', deps: ['a', 'b']},
    ],
    2,
    async (id) => {
      running++
      peak = Math.max(peak, running)
      order.push(`start ${id}`)
      await tick(id === 'a' ? 20 : 5)
      order.push(`end ${id}`)
      running--
      return id.toUpperCase()
    },
  )
  t.is(peak, 2)
  t.true(order.indexOf('start d') > order.indexOf('end a'))
  t.true(order.indexOf('start d') > order.indexOf('end b'))
  t.deepEqual([...outcomes.entries()].map(([id, o]) => [id, o.state === 'done' ? o.value : o.state]).sort(), [['a', 'A'], ['b', 'B'], ['c', 'C'], ['d', 'D']])
})

test('limit 1 is one after the other', async (t) => {
  let running = 0
  let peak = 0
  await runGraph([{id: 'a', deps: []}, {id: 'b', deps: []}, {id: 'c', deps: []}], 1, async () => {
    peak = Math.max(peak, ++running)
    await tick()
    running--
  })
  t.is(peak, 1)
})

test('a failure: running jobs finish, nothing new starts, dependents are not started', async (t) => {
  const started: string[] = []
  const outcomes = await runGraph(
    [
      {id: 'bad', deps: []},
      {id: 'slow', deps: []},
      {id: 'child', deps: ['bad']},
      {id: 'grandchild', deps: ['child']},
      {id: 'later', deps: []},
    ],
    2,
    async (id) => {
      started.push(id)
      if (id === 'bad') throw new Error('boom')
      await tick(20)
      return id
    },
  )
  t.deepEqual(started, ['bad', 'slow'])
  t.is(outcomes.get('bad')!.state, 'failed')
  t.is(outcomes.get('slow')!.state, 'done')
  const reason = (id: string) => {
    const o = outcomes.get(id)!
    return o.state === 'not-started' ? o.reason : o.state
  }
  t.regex(reason('child'), /depends on "bad"/)
  t.regex(reason('grandchild'), /depends on "child"/)
  t.regex(reason('later'), /stopped after another image failed/)
})

test('an empty graph resolves at once', async (t) => {
  t.is((await runGraph([], 2, async () => 1)).size, 0)
})
