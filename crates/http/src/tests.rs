//! Tests of the whole application through `app(state).oneshot(req)`.
