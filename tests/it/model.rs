//! A property test of the binding rules: random sequences of bind, unbind, create, move
//! and remove member, and Message Center edits, on a random tree. After every step each
//! member's associations are compared with a small independent model of rules B1–B5,
//! U1–U2 and M1–M3, computed from scratch in plain Rust.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use proptest::prelude::*;
use rd_contacts::contacts::bindings;
use rd_contacts::contacts::{self, NewContact, Sender};
use rd_contacts::db::schema::{accounts, associations, contacts as contacts_table, folders};
use rd_contacts::db::{self, AnyConnection, now_utc};
use rd_contacts::directory::{self, JoinMethod, NewAccount};
use rd_contacts::domain::{AccountId, ContactId, ContactName, DisplayName, EmailAddress, FolderId, FolderName, MessageTypes, RecipientName, TargetId, Title};
use rd_contacts::message_center;

use crate::support::TestDatabase;

const TYPES: i32 = 0b11_1111;

/// Scopes of more than two members take the job path, in batches of two members: the
/// model crosses batch boundaries and checkpoints as a large directory would.
const INLINE_LIMIT: i64 = 2;
const BATCH: i64 = 2;

/// Runs a change's propagation jobs to the end now, step by step, as a worker would.
fn run_jobs(c: &mut AnyConnection, change: &bindings::Change, direction: bindings::Direction) {
    for job in &change.jobs {
        let lease = rd_contacts::jobs::Lease::take(c, *job, "model", time::Duration::hours(1)).unwrap().expect("the job is queued");
        let row = rd_contacts::jobs::get(c, *job).unwrap().unwrap();
        let mut state: bindings::Propagation = serde_json::from_str(&row.payload).unwrap();
        while let Some(next) = bindings::propagation_step(c, &lease, direction, &state, BATCH).unwrap() {
            state = next;
        }
        assert!(lease.complete(c).unwrap());
    }
}

#[derive(Debug, Clone)]
enum Op {
    Bind { contact: usize, target: Target },
    Unbind { contact: usize, target: Target },
    Create { folder: usize, email: bool },
    Move { member: usize, folder: usize },
    Remove { member: usize },
    AddOwn { member: usize, types: i32 },
    RemoveOwn { member: usize },
    OptOut { member: usize, contact: usize, keep: i32 },
    RemoveEntry { member: usize, contact: usize },
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Folder(usize),
    Member(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let target = prop_oneof![(0..6usize).prop_map(Target::Folder), (0..12usize).prop_map(Target::Member)];
    prop_oneof![
        4 => (0..3usize, target.clone()).prop_map(|(contact, target)| Op::Bind { contact, target }),
        4 => (0..3usize, target).prop_map(|(contact, target)| Op::Unbind { contact, target }),
        2 => (0..6usize, any::<bool>()).prop_map(|(folder, email)| Op::Create { folder, email }),
        2 => (0..12usize, 0..6usize).prop_map(|(member, folder)| Op::Move { member, folder }),
        1 => (0..12usize).prop_map(|member| Op::Remove { member }),
        1 => (0..12usize, 1..=TYPES).prop_map(|(member, types)| Op::AddOwn { member, types }),
        1 => (0..12usize).prop_map(|member| Op::RemoveOwn { member }),
        2 => (0..12usize, 0..3usize, 0..=TYPES).prop_map(|(member, contact, keep)| Op::OptOut { member, contact, keep }),
        1 => (0..12usize, 0..3usize).prop_map(|(member, contact)| Op::RemoveEntry { member, contact }),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Assoc {
    opt_out: i32,
    removed: bool,
    retained: i32,
}

/// The model: plain data and the rules written out once more.
#[derive(Debug, Default)]
struct Model {
    /// folder index -> path of indices from the root (root = 0)
    chains: Vec<Vec<usize>>,
    contact_types: Vec<i32>,
    /// Each contact's place in id order (several associations going at once go in that order).
    contact_rank: Vec<usize>,
    /// member -> (folder, removed)
    members: Vec<(usize, bool)>,
    own: BTreeMap<usize, Vec<i32>>,
    /// (contact, target)
    bindings: BTreeSet<(usize, TargetKey)>,
    assoc: BTreeMap<(usize, usize), Assoc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TargetKey {
    Folder(usize),
    Member(usize),
}

impl Model {
    fn in_subtree(&self, member: usize, folder: usize) -> bool {
        let (f, removed) = self.members[member];
        !removed && self.chains[f].contains(&folder)
    }
    fn covered(&self, member: usize, contact: usize) -> bool {
        self.bindings.iter().any(|(c, t)| {
            *c == contact
                && match t {
                    TargetKey::Member(m) => *m == member,
                    TargetKey::Folder(f) => self.in_subtree(member, *f),
                }
        })
    }
    fn effective(&self, member: usize, contact: usize) -> i32 {
        match self.assoc.get(&(member, contact)) {
            Some(a) if !a.removed => self.contact_types[contact] & !a.opt_out,
            _ => 0,
        }
    }
    /// Rule U2 for one association, with `stays(o)` telling which other ones count.
    fn lonely(&self, member: usize, contact: usize, stays: impl Fn(usize) -> bool) -> i32 {
        let own: i32 = self.own.get(&member).map_or(0, |v| v.iter().fold(0, |a, t| a | t));
        let others: i32 = self.assoc.keys().filter(|(m, c)| *m == member && *c != contact && stays(*c)).fold(0, |acc, (m, c)| acc | self.effective(*m, *c));
        self.effective(member, contact) & !own & !others
    }
    fn add_covered(&mut self, contact: usize, members: Vec<usize>, explicit: bool) {
        for m in members {
            match self.assoc.get_mut(&(m, contact)) {
                None => {
                    self.assoc.insert((m, contact), Assoc { opt_out: 0, removed: false, retained: 0 });
                }
                Some(a) if explicit => {
                    if a.removed {
                        a.opt_out = 0;
                    }
                    a.removed = false;
                    a.retained = 0;
                }
                Some(_) => {}
            }
        }
    }
    fn remove_candidates(&mut self, contact: usize, candidates: Vec<usize>) {
        for m in candidates {
            let lonely = self.lonely(m, contact, |_| true);
            if lonely == 0 {
                self.assoc.remove(&(m, contact));
            } else {
                self.assoc.get_mut(&(m, contact)).unwrap().retained = lonely;
            }
        }
    }
    fn reconcile(&mut self, member: usize) {
        let uncovered: Vec<usize> =
            self.assoc.iter().filter(|((m, c), a)| *m == member && a.retained == 0 && !self.covered(*m, *c)).map(|((_, c), _)| *c).collect();
        let mut retained = BTreeMap::new();
        for &c in &uncovered {
            let lonely =
                self.lonely(member, c, |o| self.contact_rank[o] > self.contact_rank[c] || self.assoc[&(member, o)].retained != 0 || self.covered(member, o));
            retained.insert(c, lonely);
        }
        for (c, lonely) in retained {
            if lonely == 0 {
                self.assoc.remove(&(member, c));
            } else {
                self.assoc.get_mut(&(member, c)).unwrap().retained = lonely;
            }
        }
        let contacts: Vec<usize> = (0..self.contact_types.len()).filter(|c| self.covered(member, *c)).collect();
        for c in contacts {
            self.assoc.entry((member, c)).or_insert(Assoc { opt_out: 0, removed: false, retained: 0 }).retained = 0;
        }
    }
}

struct World {
    folder_ids: Vec<String>,
    contact_ids: Vec<String>,
    member_ids: Vec<String>,
    model: Model,
}

fn setup(c: &mut AnyConnection, parents: &[usize], types: &[i32]) -> World {
    for t in ["associations", "bindings", "mc_recipients", "member_invitations", "member_users", "contact_verifications", "contacts", "jobs", "unbind_tasks"] {
        diesel::sql_query(format!("DELETE FROM {t}")).execute(c).unwrap();
    }
    diesel::delete(accounts::table).execute(c).unwrap();
    diesel::delete(folders::table.filter(folders::parent_id.is_not_null().and(folders::depth.eq(3)))).execute(c).unwrap();
    diesel::delete(folders::table.filter(folders::parent_id.is_not_null().and(folders::depth.eq(2)))).execute(c).unwrap();
    diesel::delete(folders::table.filter(folders::parent_id.is_not_null())).execute(c).unwrap();
    let root = directory::get_directory(c).unwrap().root_folder_id;
    let mut world = World { folder_ids: vec![root], contact_ids: Vec::new(), member_ids: Vec::new(), model: Model::default() };
    world.model.chains.push(vec![0]);
    for (i, p) in parents.iter().enumerate() {
        let parent = p % world.folder_ids.len();
        let parent = if world.model.chains[parent].len() >= 4 { 0 } else { parent };
        let id = directory::create_folder(
            c,
            &FolderId::parse(&world.folder_ids[parent]).unwrap(),
            &FolderName::parse(&format!("f{i}")).unwrap(),
            &rd_contacts::audit::Actor::cli(),
        )
        .unwrap()
        .id;
        world.folder_ids.push(id);
        let mut chain = world.model.chains[parent].clone();
        chain.push(world.folder_ids.len() - 1);
        world.model.chains.push(chain);
    }
    contacts::set_contact_quota(c, 100, &rd_contacts::audit::Actor::cli()).unwrap();
    for (i, t) in types.iter().enumerate() {
        let new = NewContact {
            name: ContactName::parse(&format!("model{}", ["a", "b", "c"][i])).unwrap(),
            email: EmailAddress::parse(&format!("c{i}@example.com")).unwrap(),
            phone: None,
            title: Title::Other,
            types: MessageTypes::from_bits(*t),
        };
        let contact = contacts::create_contact(
            c,
            &new,
            &Sender {
                requested_by: "model".into(),
                public_url: "http://x".into(),
                secrets: rd_contacts::secrets::SecretBox::new(b"model secret that is long enough for the sealing key derivation, 64+ bytes"),
            },
            &rd_contacts::audit::Actor::cli(),
        )
        .unwrap()
        .contact;
        diesel::update(contacts_table::table.find(&contact.id))
            .set((contacts_table::status.eq("Active"), contacts_table::verified_at.eq(Some(now_utc()))))
            .execute(c)
            .unwrap();
        diesel::sql_query("DELETE FROM contact_verifications").execute(c).unwrap();
        world.contact_ids.push(contact.id);
        world.model.contact_types.push(*t);
    }
    let mut sorted = world.contact_ids.clone();
    sorted.sort();
    world.model.contact_rank = world.contact_ids.iter().map(|id| sorted.iter().position(|s| s == id).unwrap()).collect();
    world
}

fn apply(c: &mut AnyConnection, w: &mut World, op: &Op) {
    let nf = w.folder_ids.len();
    let target = |w: &World, t: Target| -> Option<(TargetId, String, TargetKey)> {
        match t {
            Target::Folder(f) => {
                let f = f % nf;
                Some((TargetId::Folder(FolderId::parse(&w.folder_ids[f]).unwrap()), w.folder_ids[f].clone(), TargetKey::Folder(f)))
            }
            Target::Member(m) if !w.member_ids.is_empty() => {
                let m = m % w.member_ids.len();
                Some((TargetId::Account(AccountId::parse(&w.member_ids[m]).unwrap()), w.member_ids[m].clone(), TargetKey::Member(m)))
            }
            Target::Member(_) => None,
        }
    };
    let member = |w: &World, m: usize| (!w.member_ids.is_empty()).then(|| m % w.member_ids.len());
    match *op {
        Op::Bind { contact, target: t } => {
            let Some((tid, given, key)) = target(w, t) else { return };
            let refused = w.model.bindings.contains(&(contact, key)) || w.model.bindings.iter().filter(|(c, _)| *c == contact).count() >= 10;
            let result =
                bindings::bind(c, &ContactId::parse(&w.contact_ids[contact]).unwrap(), &[(tid, given)], INLINE_LIMIT, &rd_contacts::audit::Actor::cli());
            assert_eq!(result.is_err(), refused, "bind {op:?}: {result:?}");
            if let Ok(change) = &result {
                run_jobs(c, change, bindings::Direction::Add);
            }
            if refused {
                return;
            }
            w.model.bindings.insert((contact, key));
            let covered: Vec<usize> = (0..w.member_ids.len())
                .filter(|m| match key {
                    TargetKey::Member(x) => x == *m,
                    TargetKey::Folder(f) => w.model.in_subtree(*m, f),
                })
                .collect();
            w.model.add_covered(contact, covered, true);
        }
        Op::Unbind { contact, target: t } => {
            let Some((tid, given, key)) = target(w, t) else { return };
            let bound = w.model.bindings.contains(&(contact, key));
            let direct_member = match key {
                TargetKey::Member(m) => w.model.assoc.contains_key(&(m, contact)),
                TargetKey::Folder(_) => false,
            };
            let result =
                bindings::unbind(c, &ContactId::parse(&w.contact_ids[contact]).unwrap(), &[(tid, given)], INLINE_LIMIT, &rd_contacts::audit::Actor::cli());
            assert_eq!(result.is_ok(), bound || direct_member, "unbind {op:?}: {result:?}");
            if let Ok(change) = &result {
                run_jobs(c, change, bindings::Direction::Remove);
            }
            if result.is_err() {
                return;
            }
            w.model.bindings.remove(&(contact, key));
            if let TargetKey::Member(m) = key
                && w.model.members[m].1
            {
                w.model.assoc.remove(&(m, contact));
                return;
            }
            let candidates: Vec<usize> = (0..w.member_ids.len())
                .filter(|m| match key {
                    TargetKey::Member(x) => x == *m,
                    TargetKey::Folder(f) => w.model.in_subtree(*m, f),
                })
                .filter(|m| w.model.assoc.contains_key(&(*m, contact)) && !w.model.covered(*m, contact))
                .collect();
            w.model.remove_candidates(contact, candidates);
        }
        Op::Create { folder, email } => {
            if w.member_ids.len() >= 12 {
                return;
            }
            let f = folder % nf;
            let new = NewAccount {
                display_name: DisplayName::parse(&format!("member {}", w.member_ids.len())).unwrap(),
                folder: FolderId::parse(&w.folder_ids[f]).unwrap(),
                security_email: email.then(|| EmailAddress::parse(&format!("m{}@example.com", w.member_ids.len())).unwrap()),
                account_name_prefix: None,
                join_method: JoinMethod::Created,
            };
            w.member_ids.push(rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap().id);
            let m = w.member_ids.len() - 1;
            w.model.members.push((f, false));
            if email {
                w.model.own.insert(m, vec![TYPES]);
            }
            w.model.reconcile(m);
        }
        Op::Move { member: m, folder } => {
            let Some(m) = member(w, m) else { return };
            let f = folder % nf;
            let result = rd_contacts::membership::move_account(
                c,
                &AccountId::parse(&w.member_ids[m]).unwrap(),
                &FolderId::parse(&w.folder_ids[f]).unwrap(),
                &rd_contacts::audit::Actor::cli(),
            );
            if w.model.members[m].1 {
                assert!(result.is_err());
                return;
            }
            result.unwrap();
            if w.model.members[m].0 != f {
                w.model.members[m].0 = f;
                w.model.reconcile(m);
            }
        }
        Op::Remove { member: m } => {
            let Some(m) = member(w, m) else { return };
            let result = directory::remove_account(c, &AccountId::parse(&w.member_ids[m]).unwrap(), &rd_contacts::audit::Actor::cli());
            assert_eq!(result.is_err(), w.model.members[m].1);
            w.model.members[m].1 = true;
        }
        Op::AddOwn { member: m, types } => {
            let Some(m) = member(w, m) else { return };
            crate::support::add_confirmed_recipient(
                c,
                &w.member_ids[m],
                &RecipientName::parse("own").unwrap(),
                &EmailAddress::parse(&format!("own-{}@example.com", rd_contacts::domain::random_alphanumeric(8).to_lowercase())).unwrap(),
                MessageTypes::from_bits(types),
            );
            w.model.own.entry(m).or_default().push(types);
        }
        Op::RemoveOwn { member: m } => {
            let Some(m) = member(w, m) else { return };
            let mc = message_center::message_center(c, &w.member_ids[m]).unwrap();
            if let Some(first) = mc.own.first() {
                message_center::remove_recipient(c, &w.member_ids[m], first.id, &rd_contacts::audit::Actor::cli()).unwrap();
                w.model.own.get_mut(&m).unwrap().remove(0);
            }
        }
        Op::OptOut { member: m, contact, keep } => {
            let Some(m) = member(w, m) else { return };
            let result =
                message_center::set_entry_types(c, &w.member_ids[m], &w.contact_ids[contact], MessageTypes::from_bits(keep), &rd_contacts::audit::Actor::cli());
            match w.model.assoc.get_mut(&(m, contact)) {
                Some(a) if !a.removed => {
                    result.unwrap();
                    a.opt_out = w.model.contact_types[contact] & !keep;
                }
                _ => assert!(result.is_err()),
            }
        }
        Op::RemoveEntry { member: m, contact } => {
            let Some(m) = member(w, m) else { return };
            let result = message_center::remove_entry(c, &w.member_ids[m], &w.contact_ids[contact], &rd_contacts::audit::Actor::cli());
            match w.model.assoc.get_mut(&(m, contact)) {
                Some(a) if !a.removed => {
                    result.unwrap();
                    a.removed = true;
                }
                _ => assert!(result.is_err()),
            }
        }
    }
}

fn check(c: &mut AnyConnection, w: &World, step: usize, op: &Op) {
    let rows: Vec<(String, String, i32, Option<time::PrimitiveDateTime>, i32)> = associations::table
        .select((associations::account_id, associations::contact_id, associations::mc_opt_out, associations::mc_removed_at, associations::retained_types))
        .load(c)
        .unwrap();
    let actual: BTreeMap<(usize, usize), Assoc> = rows
        .into_iter()
        .map(|(a, ct, opt, removed, retained)| {
            let m = w.member_ids.iter().position(|x| *x == a).unwrap();
            let k = w.contact_ids.iter().position(|x| *x == ct).unwrap();
            ((m, k), Assoc { opt_out: opt, removed: removed.is_some(), retained })
        })
        .collect();
    assert_eq!(actual, w.model.assoc, "after step {step} ({op:?})");
}

fn database() -> (TestDatabase, db::DbPool) {
    let database = TestDatabase::new();
    let pool = db::connect(&database.url, 2).unwrap();
    directory::ensure_directory(&mut pool.get().unwrap(), "model").unwrap();
    (database, pool)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn associations_follow_the_rules_after_every_step(
        parents in proptest::collection::vec(0..6usize, 5),
        types in proptest::collection::vec(1..=TYPES, 3),
        initial in proptest::collection::vec((0..6usize, proptest::bool::weighted(0.3)), 4..9),
        ops in proptest::collection::vec(op(), 10..60),
    ) {
        thread_local! {
            static DB: (TestDatabase, db::DbPool) = database();
        }
        DB.with(|(_, pool)| {
            let mut conn = pool.get().unwrap();
            let mut world = setup(&mut conn, &parents, &types);
            let start = initial.iter().map(|(folder, email)| Op::Create { folder: *folder, email: *email });
            for (step, op) in start.chain(ops.iter().cloned()).enumerate() {
                let op = &op;
                apply(&mut conn, &mut world, op);
                check(&mut conn, &world, step, op);
            }
            if std::env::var("MODEL_STATS").is_ok() {
                eprintln!("members={} associations={} retained={} bindings={}", world.member_ids.len(), world.model.assoc.len(), world.model.assoc.values().filter(|a| a.retained != 0).count(), world.model.bindings.len());
            }
        });
    }
}
