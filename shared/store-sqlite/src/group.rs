//! Group commit: order commits that arrive together share one SQLite
//! transaction.
//!
//! Committing is most of what a checkout costs the embedded store under
//! load: each transaction writes its changed pages to the WAL and checksums
//! them, whatever it changed (docs/figures.md, "Where the checkout's time
//! went"). One writer thread takes every order commit waiting at that
//! moment (at most [`MAX_GROUP`]), runs each in a savepoint of one
//! `IMMEDIATE` transaction and commits once. Each commit keeps its own
//! outcome: one that fails (stock short, a stale version, a taken key)
//! rolls back to its savepoint and leaves the others alone, and none is
//! answered before the transaction holding it has committed. Commits are
//! applied in the order they arrived, as one after the other would be, so
//! a later commit sees an earlier one's changes, conditions included.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use kontor_platform::store::{OrderCommit, StoreError};
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use crate::internal;

/// The most commits one transaction holds, so that one group cannot keep
/// readers waiting long.
pub(crate) const MAX_GROUP: usize = 64;

/// One commit waiting for the writer, and where its outcome goes.
struct Pending {
    commit: OrderCommit,
    outcome: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle to a store's order writer. The thread ends when the last
/// handle (the last clone of the store) is dropped.
pub(crate) struct GroupWriter {
    queue: Sender<Pending>,
    /// How many transactions the writer committed, for the tests.
    #[cfg(test)]
    pub(crate) groups: Arc<AtomicU64>,
}

/// Writes one commit inside the transaction (a savepoint of it).
pub(crate) type WriteCommit = fn(&Connection, &OrderCommit) -> Result<(), StoreError>;

impl GroupWriter {
    pub(crate) fn start(
        connection: Arc<Mutex<Connection>>,
        write: WriteCommit,
    ) -> Result<Self, StoreError> {
        let (queue, waiting) = mpsc::channel();
        let groups = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&groups);
        std::thread::Builder::new()
            .name("kontor-order-writer".into())
            .spawn(move || run(&connection, &waiting, write, &counted))
            .map_err(|e| StoreError::Internal(format!("cannot start the order writer: {e}")))?;
        Ok(Self {
            queue,
            #[cfg(test)]
            groups,
        })
    }

    /// Commits `commit` with whatever else is waiting, once it is durable
    /// as far as the store's settings make it.
    pub(crate) async fn commit(&self, commit: OrderCommit) -> Result<(), StoreError> {
        let stopped = || StoreError::Internal("the order writer stopped".into());
        let (outcome, answer) = oneshot::channel();
        self.queue
            .send(Pending { commit, outcome })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn run(
    connection: &Mutex<Connection>,
    waiting: &Receiver<Pending>,
    write: WriteCommit,
    groups: &AtomicU64,
) {
    while let Ok(first) = waiting.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match waiting.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let outcomes = match connection.lock() {
            Ok(mut connection) => commit_group(&mut connection, &group, write),
            Err(_) => group
                .iter()
                .map(|_| {
                    Err(StoreError::Internal(
                        "the connection lock was poisoned".into(),
                    ))
                })
                .collect(),
        };
        groups.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(commits = group.len(), "order commits written together");
        for (pending, outcome) in group.into_iter().zip(outcomes) {
            // A caller that stopped waiting has nobody to tell.
            let _ = pending.outcome.send(outcome);
        }
    }
}

/// Each commit's outcome, after the one transaction committed (or every
/// one failed with it).
fn commit_group(
    connection: &mut Connection,
    group: &[Pending],
    write: WriteCommit,
) -> Vec<Result<(), StoreError>> {
    // Every commit of the group gets the error that stopped it.
    let all_failed = |error: rusqlite::Error| -> Vec<Result<(), StoreError>> {
        let error = internal(error);
        group
            .iter()
            .map(|_| {
                Err(match &error {
                    StoreError::Unavailable(text) => StoreError::Unavailable(text.clone()),
                    other => StoreError::Internal(other.to_string()),
                })
            })
            .collect()
    };
    let mut tx = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(error) => return all_failed(error),
    };
    let mut outcomes = Vec::with_capacity(group.len());
    for pending in group {
        let outcome = tx.savepoint().map_err(internal).and_then(|savepoint| {
            // Dropped on an error, the savepoint rolls back this commit only.
            write(&savepoint, &pending.commit)?;
            savepoint.commit().map_err(internal)
        });
        outcomes.push(outcome);
    }
    match tx.commit() {
        Ok(()) => outcomes,
        Err(error) => all_failed(error),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kontor_platform::store::{CatalogStore, OrderStore};
    use kontor_testkit::contract::placement;
    use kontor_testkit::fixtures::product;

    use super::*;
    use crate::SqliteStore;

    /// Ten orders of one unit for five units, all waiting while the writer
    /// cannot start: they go in at most two transactions (one if the writer
    /// had not taken the first yet), five are placed, five find the stock
    /// short, and a refused one leaves nothing behind.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commits_waiting_together_share_a_transaction_and_keep_their_own_outcomes() {
        let store = SqliteStore::in_memory().unwrap();
        store
            .put_product(&product("SHIRT", "29.90", 5, false), None)
            .await
            .unwrap();
        let mut commits = Vec::new();
        for n in 1..=10 {
            commits.push(placement(&store, &[("SHIRT", 1)], n).await);
        }
        let before = store.writer.groups.load(Ordering::Relaxed);

        let held = store.connection.lock().unwrap();
        let tasks: Vec<_> = commits
            .iter()
            .cloned()
            .map(|commit| {
                let store = store.clone();
                tokio::spawn(async move { store.commit_order(&commit).await })
            })
            .collect();
        // Every commit is queued by now; the writer waits for the connection.
        std::thread::sleep(Duration::from_millis(300));
        drop(held);

        let mut placed = Vec::new();
        let mut refused = Vec::new();
        for (commit, task) in commits.iter().zip(tasks) {
            match task.await.unwrap() {
                Ok(()) => placed.push(commit.order.id.clone()),
                Err(StoreError::StockShort { .. }) => refused.push(commit.order.id.clone()),
                Err(other) => panic!("unexpected: {other:?}"),
            }
        }
        assert_eq!((placed.len(), refused.len()), (5, 5));
        assert!(store.writer.groups.load(Ordering::Relaxed) - before <= 2);
        let shirt = kontor_domain::Sku::parse("SHIRT").unwrap();
        assert_eq!(store.get_product(&shirt).await.unwrap().unwrap().stock, 0);
        for id in &placed {
            assert!(store.get_order(id).await.unwrap().is_some());
        }
        for id in &refused {
            assert!(store.get_order(id).await.unwrap().is_none(), "rolled back");
        }
    }
}
