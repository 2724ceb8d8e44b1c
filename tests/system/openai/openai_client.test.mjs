// The official openai npm client against a real `dte serve` on the bundled demo model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer } from './dte_server.mjs';

let server;
let client;

before(async () => {
  server = await startServer();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
});

after(async () => {
  const code = await server.stop();
  assert.equal(code, 0, `dte serve should exit 0 after SIGTERM:\n${server.stderr()}`);
});

test('lists the served model', async () => {
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['demo']);
});

test('plain completion continues like the reference model', async () => {
  const r = await client.completions.create({ model: 'demo', prompt: '"in', max_tokens: 10, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].text, 'put": "",\n');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.deepEqual([r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens], [3, 10, 13]);
});

test('streamed chat arrives in chunks and ends with a finish reason', async () => {
  const stream = await client.chat.completions.create({
    model: 'demo', stream: true, max_tokens: 40, seed: 7,
    messages: [{ role: 'user', content: 'Tell me about the sea.' }],
    stream_options: { include_usage: true },
  });
  let text = '';
  let chunks = 0;
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    if (chunk.choices.length === 0) continue;
    chunks += 1;
    text += chunk.choices[0].delta.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.ok(chunks > 1, 'several chunks');
  assert.ok(text.length > 0, 'some text');
  assert.ok(finish === 'stop' || finish === 'length');
  assert.ok(usage && usage.completion_tokens > 0 && usage.completion_tokens <= 40);
  assert.ok(!text.includes('\n\n'), 'chat stops at the turn separator');
});

test('with a seed, streamed and non-streamed requests give the same text', async () => {
  const params = { model: 'demo', prompt: 'Once upon a time', max_tokens: 30, temperature: 0.9, seed: 1234 };
  const whole = await client.completions.create(params);
  let streamed = '';
  for await (const chunk of await client.completions.create({ ...params, stream: true })) {
    streamed += chunk.choices[0]?.text ?? '';
  }
  assert.equal(streamed, whole.choices[0].text);
});

test('a session continues over three turns without re-reading its history', async () => {
  const session = await client.post('/sessions', { body: { system: 'You are a helpful assistant.' } });
  assert.match(session.id, /^sess_/);
  let cached = -1;
  for (const question of ['Hello!', 'What is the sea?', 'Thank you.']) {
    const r = await client.chat.completions.create({
      model: 'demo', max_tokens: 12, temperature: 0, session_id: session.id,
      messages: [{ role: 'user', content: question }],
    });
    assert.equal(r.session_id, session.id);
    const c = r.usage.prompt_tokens_details.cached_tokens;
    assert.ok(c > cached, `cached history grows (${c} > ${cached})`);
    cached = c;
    // Only this turn's text is processed: far fewer prompt tokens than the whole history.
    assert.ok(r.usage.prompt_tokens < 40, `turn prompt is small (${r.usage.prompt_tokens})`);
  }
  const info = await client.get(`/sessions/${session.id}`);
  assert.equal(info.turns, 4);  // the system prompt, then three turns
  const deleted = await client.delete(`/sessions/${session.id}`);
  assert.equal(deleted.deleted, true);
  await assert.rejects(client.get(`/sessions/${session.id}`), (e) => e.status === 404);
});

test('documented errors arrive as OpenAI errors', async () => {
  await assert.rejects(client.completions.create({ model: 'nope', prompt: 'x' }), (e) => {
    assert.equal(e.status, 404);
    assert.equal(e.code, 'model_not_found');
    return true;
  });
  await assert.rejects(client.completions.create({ model: 'demo', prompt: 'x', temperature: 'hot' }), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.param, 'temperature');
    assert.equal(e.type, 'invalid_request_error');
    return true;
  });
  await assert.rejects(client.completions.create({ model: 'demo', prompt: 'x', max_tokens: 10 ** 9 }), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.param, 'max_tokens');
    return true;
  });
  await assert.rejects(client.chat.completions.create({
    model: 'demo', messages: [{ role: 'user', content: 'hi' }], session_id: 'sess_missing',
  }), (e) => e.status === 404);
});
