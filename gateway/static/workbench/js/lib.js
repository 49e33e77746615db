// Preact + htm, loaded as plain scripts from /workbench/vendor/ (no build step).
// htm templates build elements through Preact: text and attribute values are
// always set as text, never parsed as HTML.
const { h, render, Fragment } = window.preact;
const { useState, useEffect, useRef, useCallback, useMemo } = window.preactHooks;

export const html = window.htm.bind(h);
export { Fragment, h, render, useCallback, useEffect, useMemo, useRef, useState };
