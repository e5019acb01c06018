// What a person does in the UI, as functions, so each test reads like a specification.

import assert from 'node:assert/strict';

export async function signUp(page, { name, email, password }) {
  await page.goto('/sign-up');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/tasks');
  await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor();
}

export async function signIn(page, { email, password }) {
  await page.goto('/sign-in');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/tasks');
}

export async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/sign-in');
}

/** Waits until the task list finished loading (list or empty state shown). */
export async function tasksLoaded(page) {
  await page.locator('.list-body[aria-busy="false"]').waitFor();
}

export async function addTask(page, title, description) {
  await page.locator('#new-task-title').fill(title);
  if (description) await page.locator('#new-task-description').fill(description);
  await page.getByRole('button', { name: 'Add task' }).click();
  await taskItem(page, title).waitFor();
}

export function taskItem(page, title) {
  return page.locator('li.task', { has: page.getByText(title, { exact: true }) });
}

/** The titles shown in the list, in order. */
export async function taskTitles(page) {
  await tasksLoaded(page);
  return page.locator('li.task .task-title').allTextContents();
}

/** Asserts no error is on screen (field errors, form alerts, load errors). */
export async function assertNoVisibleError(page) {
  const alerts = await page.locator('.form-alert:visible, .field-error:not(:empty), .load-error, .task-error:visible').count();
  assert.equal(alerts, 0, 'an error message is visible');
}

/** Decodes a JWT's claims (no verification; the tests only read iat/exp/sub). */
export function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}
