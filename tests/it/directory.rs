//! The resource directory's own rules: nesting, empty-only deletion, moves, removal.

use rd_contacts::db::AnyConnection;
use rd_contacts::directory::{self, DirectoryError, JoinMethod, NewAccount};
use rd_contacts::domain::{DisplayName, FolderId, FolderName, PageRequest};

use crate::support::TestApp;

fn root(c: &mut AnyConnection) -> FolderId {
    FolderId::parse(&directory::get_directory(c).unwrap().root_folder_id).unwrap()
}

fn folder(c: &mut AnyConnection, parent: &FolderId, name: &str) -> Result<FolderId, DirectoryError> {
    directory::create_folder(c, parent, &FolderName::parse(name).unwrap(), &rd_contacts::audit::Actor::cli()).map(|f| FolderId::parse(&f.id).unwrap())
}

fn member(c: &mut AnyConnection, folder: &FolderId, name: &str) -> rd_contacts::directory::Account {
    let new = NewAccount {
        display_name: DisplayName::parse(name).unwrap(),
        folder: folder.clone(),
        security_email: None,
        account_name_prefix: None,
        join_method: JoinMethod::Created,
    };
    rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap()
}

#[actix_web::test]
async fn folders_nest_at_most_five_levels_below_the_root() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let mut parent = root(c);
        for level in 1..=5 {
            parent = folder(c, &parent, &format!("level{level}")).expect("levels 1 to 5 are allowed");
        }
        assert!(matches!(folder(c, &parent, "level6"), Err(DirectoryError::TooDeep)));
        let deepest = directory::get_folder(c, &parent).unwrap();
        assert_eq!(deepest.depth, 5);
        assert_eq!(directory::ancestors(c, &deepest).unwrap().len(), 5, "the root and four folders above it");
    })
    .await;
}

#[actix_web::test]
async fn a_folder_five_levels_down_and_its_member_are_shown_with_their_whole_path() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let root = root(c);
        let mut deepest = root.clone();
        for level in 1..=5 {
            deepest = folder(c, &deepest, &format!("level{level}")).unwrap();
        }
        let whole = "Root / level1 / level2 / level3 / level4 / level5";
        let paths = directory::folder_path_names(c, &[deepest.as_str(), root.as_str()]).unwrap();
        assert_eq!(paths[deepest.as_str()], whole, "names up to the root");
        assert_eq!(paths[root.as_str()], "Root");

        let (folder, members, above) = directory::folder_and_ancestors(c, &deepest).unwrap();
        assert_eq!((folder.id.as_str(), members), (deepest.as_str(), 0));
        let above: Vec<&str> = above.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(above, ["Root", "level1", "level2", "level3", "level4"], "the root first, without the folder itself");
        assert!(directory::folder_and_ancestors(c, &root).unwrap().2.is_empty(), "nothing is above the root");
        assert!(matches!(directory::folder_and_ancestors(c, &FolderId::generate()), Err(DirectoryError::FolderNotFound(_))));

        let m = member(c, &deepest, "deep member");
        let id = rd_contacts::domain::AccountId::parse(&m.id).unwrap();
        let (account, path) = directory::get_account_and_path(c, &id).unwrap();
        assert_eq!(account.id, m.id);
        let names: Vec<&str> = path.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Root", "level1", "level2", "level3", "level4", "level5"], "the root first and its own folder last");
        assert_eq!(directory::folder_and_ancestors(c, &deepest).unwrap().1, 1, "its kept count of members");

        directory::remove_account(c, &id, &rd_contacts::audit::Actor::cli()).unwrap();
        let (_, path) = directory::get_account_and_path(c, &id).unwrap();
        assert!(path.is_empty(), "a removed member is in no folder");
    })
    .await;
}

#[actix_web::test]
async fn sibling_folders_have_distinct_names_whatever_the_case() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let a = folder(c, &r, "Retail").unwrap();
        assert!(matches!(folder(c, &r, "retail"), Err(DirectoryError::FolderNameTaken(_))));
        folder(c, &a, "Retail").expect("the same name under another parent is fine");
        let b = folder(c, &r, "Finance").unwrap();
        let renamed = directory::rename_folder(c, &b, &FolderName::parse("RETAIL").unwrap(), &rd_contacts::audit::Actor::cli());
        assert!(matches!(renamed, Err(DirectoryError::FolderNameTaken(_))));
        directory::rename_folder(c, &b, &FolderName::parse("Finance2").unwrap(), &rd_contacts::audit::Actor::cli()).unwrap();
    })
    .await;
}

#[actix_web::test]
async fn only_an_empty_folder_can_be_deleted() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let a = folder(c, &r, "a").unwrap();
        let b = folder(c, &a, "b").unwrap();
        assert!(matches!(directory::delete_folder(c, &a, &rd_contacts::audit::Actor::cli()), Err(DirectoryError::HasSubfolders(1))));
        let m = member(c, &b, "someone");
        assert!(matches!(directory::delete_folder(c, &b, &rd_contacts::audit::Actor::cli()), Err(DirectoryError::HasAccounts(1))));
        rd_contacts::membership::move_account(c, &m.id.parse_id(), &r, &rd_contacts::audit::Actor::cli()).unwrap();
        directory::delete_folder(c, &b, &rd_contacts::audit::Actor::cli()).unwrap();
        directory::delete_folder(c, &a, &rd_contacts::audit::Actor::cli()).unwrap();
        assert!(matches!(directory::get_folder(c, &a), Err(DirectoryError::FolderNotFound(_))));
        assert!(matches!(directory::delete_folder(c, &r, &rd_contacts::audit::Actor::cli()), Err(DirectoryError::RootFolder)));
    })
    .await;
}

trait ParseId {
    fn parse_id(&self) -> rd_contacts::domain::AccountId;
}

impl ParseId for String {
    fn parse_id(&self) -> rd_contacts::domain::AccountId {
        rd_contacts::domain::AccountId::parse(self).unwrap()
    }
}

#[actix_web::test]
async fn a_moved_member_is_listed_in_its_new_folder_only() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let a = folder(c, &r, "a").unwrap();
        let b = folder(c, &r, "b").unwrap();
        let m = member(c, &a, "mover");
        assert!(m.id.len() == 16 && m.id.bytes().all(|b| b.is_ascii_digit()));
        rd_contacts::membership::move_account(c, &m.id.parse_id(), &b, &rd_contacts::audit::Actor::cli()).unwrap();
        let in_a = directory::list_accounts(c, Some(&a), None, PageRequest::new(None, None)).unwrap();
        let in_b = directory::list_accounts(c, Some(&b), None, PageRequest::new(None, None)).unwrap();
        assert_eq!(in_a.total, 0);
        assert_eq!(in_b.items.iter().map(|x| x.id.clone()).collect::<Vec<_>>(), vec![m.id.clone()]);
        let missing = FolderId::parse("fd-0000000000").unwrap();
        assert!(matches!(
            rd_contacts::membership::move_account(c, &m.id.parse_id(), &missing, &rd_contacts::audit::Actor::cli()),
            Err(DirectoryError::FolderNotFound(_))
        ));
    })
    .await;
}

/// Rule B4 needs the record of a removed member: it leaves the tree, not the database.
#[actix_web::test]
async fn a_removed_member_leaves_the_tree_but_keeps_its_record() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let a = folder(c, &r, "a").unwrap();
        let m = member(c, &a, "leaver");
        directory::remove_account(c, &m.id.parse_id(), &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!(directory::list_accounts(c, None, None, PageRequest::new(None, None)).unwrap().total, 0);
        let kept = directory::get_account(c, &m.id.parse_id()).unwrap();
        assert!(kept.is_removed());
        assert_eq!(directory::list_removed_accounts(c, PageRequest::new(None, None)).unwrap().total, 1);
        assert!(matches!(
            rd_contacts::membership::move_account(c, &m.id.parse_id(), &r, &rd_contacts::audit::Actor::cli()),
            Err(DirectoryError::AccountRemoved(_))
        ));
        directory::delete_folder(c, &a, &rd_contacts::audit::Actor::cli()).expect("a removed member does not keep its old folder from being deleted");
    })
    .await;
}

#[actix_web::test]
async fn members_are_searchable_by_name_id_or_email_and_paginated() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        for i in 0..25 {
            member(c, &r, &format!("retail {i:02}"));
        }
        let special = member(c, &r, "a_b match");
        member(c, &r, "axb other");
        let page2 = directory::list_accounts(c, None, Some("retail"), PageRequest::new(Some(2), Some(10))).unwrap();
        assert_eq!(page2.total, 25);
        assert_eq!(page2.items.len(), 10);
        assert_eq!(page2.items[0].display_name, "retail 10");
        let by_id = directory::list_accounts(c, None, Some(&special.id[..10]), PageRequest::new(None, None)).unwrap();
        assert_eq!(by_id.items.len(), 1);
        let wildcard = directory::list_accounts(c, None, Some("a_b"), PageRequest::new(None, None)).unwrap();
        assert_eq!(wildcard.items.iter().map(|a| a.display_name.as_str()).collect::<Vec<_>>(), ["a_b match"], "_ is matched literally");
        let percent = directory::list_accounts(c, None, Some("%"), PageRequest::new(None, None)).unwrap();
        assert_eq!(percent.total, 0, "% is matched literally");
    })
    .await;
}

/// A search that is not kept between requests (one inside a transaction, or one that also
/// filters by tag) finds members by name, id or email as a kept one does, in the list's
/// order, and a page past the end shows the last.
#[actix_web::test]
async fn a_search_inside_a_transaction_or_by_tag_finds_members_by_name_id_or_email() {
    use rd_contacts::domain::{EmailAddress, Tag, TaggedKind};
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let shops = folder(c, &r, "shops").unwrap();
        let mut made = Vec::new();
        for i in 0..25 {
            let new = NewAccount {
                display_name: DisplayName::parse(&format!("Retail {:02}", 24 - i)).unwrap(),
                folder: if i % 2 == 0 { shops.clone() } else { r.clone() },
                security_email: Some(EmailAddress::parse(&format!("ops{i}@shop{}.example", i % 5)).unwrap()),
                account_name_prefix: None,
                join_method: JoinMethod::Created,
            };
            made.push(rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap());
        }
        member(c, &r, "other");
        let names = |page: &rd_contacts::domain::Page<directory::Account>| page.items.iter().map(|a| a.display_name.clone()).collect::<Vec<_>>();
        rd_contacts::db::transaction(c, |c| {
            let second = directory::list_accounts(c, None, Some("retail"), PageRequest::with_size(Some(2), 10)).unwrap();
            assert_eq!((second.total, names(&second)[0].as_str(), second.items.len()), (25, "Retail 10", 10));
            let past = directory::list_accounts(c, None, Some("RETAIL"), PageRequest::with_size(Some(9), 10)).unwrap();
            assert_eq!((past.total, past.request.number, names(&past)), (25, 3, (20..25).map(|i| format!("Retail {i}")).collect::<Vec<_>>()));
            let by_email = directory::list_accounts(c, Some(&shops), Some("@shop2.ex"), PageRequest::with_size(None, 10)).unwrap();
            assert_eq!(names(&by_email), ["Retail 02", "Retail 12", "Retail 22"], "ops2, ops12 and ops22 (24 - i): the even i are in shops");
            let by_id = directory::list_accounts(c, None, Some(&made[3].id[4..]), PageRequest::with_size(None, 10)).unwrap();
            assert_eq!(names(&by_id), ["Retail 21"]);
            let nothing = directory::list_accounts(c, None, Some("wholesale"), PageRequest::with_size(Some(3), 10)).unwrap();
            assert_eq!((nothing.total, nothing.items.len(), nothing.request.number), (0, 0, 1));
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
        let gold = [Tag::parse_pair("tier=gold").unwrap()];
        let tagged: Vec<String> = made.iter().step_by(3).map(|a| a.id.clone()).collect();
        rd_contacts::directory::tags::tag(c, TaggedKind::Account, &tagged, &gold, &rd_contacts::audit::Actor::cli()).unwrap();
        let gold_shop0 = directory::list_accounts_tagged(c, None, Some("shop0"), &gold, PageRequest::with_size(None, 10)).unwrap();
        assert_eq!((gold_shop0.total, names(&gold_shop0)), (2, vec!["Retail 09".to_owned(), "Retail 24".to_owned()]), "i = 0 and 15");
        let gold_by_name = directory::list_accounts_tagged(c, None, Some("retail 1"), &gold, PageRequest::with_size(None, 10)).unwrap();
        assert_eq!(names(&gold_by_name), ["Retail 12", "Retail 15", "Retail 18"]);
    })
    .await;
}

/// A search keeps only its first matches, and a page past them reads deeper: every page,
/// the first, those at the edges of what is kept, one far on and one past the end (the
/// last), shows the members the list's order puts there, and the same total.
#[actix_web::test]
async fn every_page_of_a_search_shows_the_members_in_the_lists_order_however_deep_it_is() {
    use diesel::prelude::*;
    use rd_contacts::db::schema::accounts;
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let shops = folder(c, &r, "shops").unwrap();
        for i in 0..430 {
            // Names out of their order of creation, some in a folder, some the same name.
            member(c, if i % 3 == 0 { &shops } else { &r }, &format!("Retail {:03}", (i * 7) % 430 / 2));
            if i % 10 == 0 {
                member(c, &r, &format!("other {i}"));
            }
        }
        let truth: Vec<String> = accounts::table
            .filter(accounts::removed_at.is_null())
            .filter(accounts::display_name.like("Retail%"))
            .order((diesel::dsl::sql::<diesel::sql_types::Text>("lower(display_name)"), accounts::id))
            .select(accounts::id)
            .load(c)
            .unwrap();
        assert_eq!(truth.len(), 430);
        for number in [1, 10, 11, 20, 21, 22, 1000, i64::MAX, 3] {
            let page = directory::list_accounts(c, None, Some("retail"), PageRequest::with_size(Some(number), 20)).unwrap();
            assert_eq!(page.total, 430, "page {number}");
            let shown = page.request.number;
            let want = &truth[((shown - 1) * 20) as usize..(shown * 20).min(430) as usize];
            assert_eq!(page.items.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), want, "page {number} (shown as {shown})");
        }
        let in_folder = directory::list_accounts(c, Some(&shops), Some("retail"), PageRequest::with_size(Some(8), 20)).unwrap();
        assert_eq!(in_folder.total, 144);
        assert!(in_folder.items.iter().all(|a| a.folder_id.as_deref() == Some(shops.as_str())) && in_folder.items.len() == 4);
    })
    .await;
}

/// PostgreSQL: a statement that adds or changes many members writes their search rows in
/// name order (migration 000032), so that a common word, which mostly begins the names it is in, is read
/// from a few pages together instead of from every page of `account_search`.
#[actix_web::test]
async fn a_bulk_load_writes_the_members_search_rows_in_name_order() {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        if !rd_contacts::db::is_postgres(c) {
            return;
        }
        directory::demo::fill(c, 20, 2_000, &rd_contacts::audit::Actor::cli()).unwrap();
        // Rows out of order: each row that comes before the one written before it.
        let out_of_order = |c: &mut AnyConnection, which: &str| -> i64 {
            diesel::sql_query(format!(
                "SELECT COUNT(*) AS n FROM (SELECT name_key, id, lag(name_key) OVER (ORDER BY ctid) AS before_name, \
                 lag(id) OVER (ORDER BY ctid) AS before_id FROM account_search WHERE {which}) laid WHERE (before_name, before_id) > (name_key, id)"
            ))
            .get_result::<Count>(c)
            .unwrap()
            .n
        };
        let written: i64 = diesel::sql_query("SELECT COUNT(*) AS n FROM account_search").get_result::<Count>(c).unwrap().n;
        assert_eq!(written, 2_000);
        // A page's last few bytes may take a shorter row that comes later (one without an
        // email): in order but for at most one row in fifty, where insertion order is random
        // (half of them out of order).
        let misplaced = out_of_order(c, "true");
        assert!(misplaced <= written / 50, "the demo's members are written in name order: {misplaced} of {written} are not");
        // Renamed in one statement: the new names are written in their order too.
        let renamed = diesel::sql_query("UPDATE accounts SET display_name = 'a ' || display_name WHERE lower(display_name) LIKE 'retail%'").execute(c).unwrap();
        assert!(renamed > 100);
        let misplaced = out_of_order(c, "name_key LIKE 'a retail%'");
        assert!(misplaced <= renamed as i64 / 50, "the renamed members are written in name order: {misplaced} of {renamed} are not");
    })
    .await;
}

/// The names of the members a search finds, in the list's order.
fn found(c: &mut AnyConnection, folder: Option<&FolderId>, text: &str) -> Vec<String> {
    directory::list_accounts(c, folder, Some(text), PageRequest::new(None, Some(50))).unwrap().items.into_iter().map(|a| a.display_name).collect()
}

#[actix_web::test]
async fn a_repeated_search_sees_every_committed_change_to_a_member_even_one_made_in_plain_sql() {
    use diesel::RunQueryDsl;
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let shops = folder(c, &r, "shops").unwrap();
        let a = member(c, &r, "retail a");
        member(c, &r, "retail b");
        assert_eq!(found(c, None, "retail"), ["retail a", "retail b"]);
        assert_eq!(found(c, None, "Retail "), ["retail a", "retail b"], "asked twice, the same answer");

        member(c, &r, "retail c");
        assert_eq!(found(c, None, "retail"), ["retail a", "retail b", "retail c"], "a new member");

        // As another server or an operator would: straight to the database.
        diesel::sql_query(format!("UPDATE accounts SET display_name = 'wholesale a' WHERE id = '{}'", a.id)).execute(c).unwrap();
        assert_eq!(found(c, None, "retail"), ["retail b", "retail c"], "a renamed member");
        assert_eq!(found(c, None, "wholesale"), ["wholesale a"]);
        diesel::sql_query(format!("UPDATE accounts SET security_email = 'retail-ops@example.com' WHERE id = '{}'", a.id)).execute(c).unwrap();
        assert_eq!(found(c, None, "retail"), ["retail b", "retail c", "wholesale a"], "found by its new email");

        assert!(found(c, Some(&shops), "retail").is_empty());
        rd_contacts::membership::move_account(c, &a.id.parse_id(), &shops, &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!(found(c, Some(&shops), "retail"), ["wholesale a"], "a member moved into the folder");

        directory::remove_account(c, &a.id.parse_id(), &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!(found(c, None, "retail"), ["retail b", "retail c"], "a removed member");

        // A transaction sees its own new member; once it is rolled back, nobody does.
        let rolled_back: Result<(), diesel::result::Error> = rd_contacts::db::transaction(c, |c| {
            member(c, &r, "retail d");
            assert_eq!(found(c, None, "retail"), ["retail b", "retail c", "retail d"]);
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(rolled_back.is_err());
        assert_eq!(found(c, None, "retail"), ["retail b", "retail c"], "nothing of the rolled-back transaction is kept");
    })
    .await;
}

/// The definitions of the indexes, constraints and triggers (with whether each is
/// enabled) on members, their search rows and their recipients (PostgreSQL; none on SQLite).
fn member_schema(c: &mut AnyConnection) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Def {
        #[diesel(sql_type = diesel::sql_types::Text)]
        definition: String,
    }
    if !rd_contacts::db::is_postgres(c) {
        return Vec::new();
    }
    let sql = "SELECT indexdef AS definition FROM pg_indexes WHERE tablename IN ('accounts', 'account_search', 'mc_recipients') \
               UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
                         WHERE conrelid IN ('accounts'::regclass, 'account_search'::regclass, 'mc_recipients'::regclass) \
               UNION ALL SELECT tgname || ' ' || CAST(tgenabled AS TEXT) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN ('accounts'::regclass, 'mc_recipients'::regclass) \
               ORDER BY 1";
    diesel::RunQueryDsl::load::<Def>(diesel::sql_query(sql), c).unwrap().into_iter().map(|d| d.definition).collect()
}

#[actix_web::test]
async fn the_demo_fills_an_empty_directory_only() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let schema_before = member_schema(c);
        let retail = |c: &mut AnyConnection| directory::list_accounts(c, None, Some("retail"), PageRequest::new(None, None)).unwrap().total;
        assert_eq!(retail(c), 0);
        let report = directory::demo::fill(c, 60, 500, &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!(member_schema(c), schema_before, "the indexes, foreign keys and triggers a bulk fill sets aside on PostgreSQL are all back");
        assert!(retail(c) > 0, "a search kept before the fill finds its members: the fill moved the search version on");
        assert_eq!(report.folders, 60);
        assert!(report.max_depth <= 5);
        let (folders, members) = directory::directory_counts(c).unwrap();
        assert_eq!((folders, members), (60, 500));
        let options = directory::folder_options(c).unwrap();
        assert_eq!(options.len(), 61);
        assert!(options.iter().all(|o| o.depth <= 5));
        // Rule M4: demo members with a security email receive through it, as created ones do.
        use diesel::prelude::*;
        use rd_contacts::db::schema::{accounts, mc_recipients};
        let with_email: i64 = accounts::table.filter(accounts::security_email.is_not_null()).count().get_result(c).unwrap();
        let receiving: i64 = mc_recipients::table.filter(mc_recipients::verified_at.is_not_null()).count().get_result(c).unwrap();
        assert!(with_email > 0);
        assert_eq!(receiving, with_email, "every security email counts as confirmed (rule M6)");
        assert!(matches!(directory::demo::fill(c, 1, 1, &rd_contacts::audit::Actor::cli()), Err(directory::demo::DemoError::NotEmpty { .. })));
    })
    .await;
}

#[actix_web::test]
async fn the_kept_member_counts_follow_creation_moves_removal_and_the_demo_fill() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        directory::demo::fill(c, 5, 40, &rd_contacts::audit::Actor::cli()).unwrap();
        let counted: i64 = diesel::RunQueryDsl::get_result(
            diesel::QueryDsl::count(diesel::QueryDsl::filter(
                rd_contacts::db::schema::accounts::table,
                diesel::ExpressionMethods::is_null(rd_contacts::db::schema::accounts::removed_at),
            )),
            c,
        )
        .unwrap();
        assert_eq!(directory::directory_counts(c).unwrap().1, counted, "the kept total is the real one after a bulk fill");
        let r = root(c);
        let a = folder(c, &r, "counted-a").unwrap();
        let b = folder(c, &a, "counted-b").unwrap();
        let m1 = member(c, &a, "first member");
        member(c, &b, "second member");
        member(c, &r, "third member");
        let members_in = |c: &mut AnyConnection, f: &FolderId| directory::folder_summary(c, f).unwrap().members;
        assert_eq!((members_in(c, &a), members_in(c, &b), directory::directory_counts(c).unwrap().1), (1, 1, counted + 3));
        let under_a = directory::get_folder(c, &a).unwrap().path;
        assert_eq!(directory::members_under(c, &under_a).unwrap(), 2, "a subtree's members: a sum over its folders");

        rd_contacts::membership::move_account(c, &m1.id.parse_id(), &b, &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!((members_in(c, &a), members_in(c, &b)), (0, 2));
        rd_contacts::membership::move_account(c, &m1.id.parse_id(), &b, &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!(members_in(c, &b), 2, "a move to the same folder changes nothing");
        directory::remove_account(c, &m1.id.parse_id(), &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!((members_in(c, &b), directory::directory_counts(c).unwrap().1), (1, counted + 2));
    })
    .await;
}

#[actix_web::test]
async fn a_renamed_member_is_found_by_its_new_name_only() {
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let m = member(c, &r, "Harbour Office");
        let found = |c: &mut AnyConnection, q: &str| directory::list_accounts(c, None, Some(q), PageRequest::new(None, None)).unwrap().total;
        assert_eq!(found(c, "harbour"), 1);
        directory::update_account(c, &m.id.parse_id(), Some(&DisplayName::parse("Quay Office").unwrap()), None, &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!((found(c, "harbour"), found(c, "quay off"), found(c, "QUAY")), (0, 1, 1), "the search index follows the change");
        let email = rd_contacts::domain::EmailAddress::parse("sec-team@example.org").unwrap();
        directory::update_account(c, &m.id.parse_id(), None, Some(Some(&email)), &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!(found(c, "team@example"), 1, "by security email");
    })
    .await;
}

#[actix_web::test]
async fn the_directory_totals_kept_between_views_follow_every_change_even_in_plain_sql() {
    // The Organization View and ListAccounts keep the totals while nothing they sum
    // changed; a folder added or deleted, a member added, or a count changed by hand each
    // shows at the next view.
    use diesel::prelude::*;
    use rd_contacts::db::schema::folders;
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let first = directory::directory_counts(c).unwrap();
        assert_eq!(directory::directory_counts(c).unwrap(), first, "kept");
        let a = folder(c, &r, "totals-a").unwrap();
        assert_eq!(directory::directory_counts(c).unwrap(), (first.0 + 1, first.1), "a folder added");
        let under_a = directory::get_folder(c, &a).unwrap().path;
        assert_eq!(directory::members_under(c, &under_a).unwrap(), 0);
        member(c, &a, "totals member");
        assert_eq!(directory::directory_counts(c).unwrap(), (first.0 + 1, first.1 + 1), "a member added");
        assert_eq!(directory::members_under(c, &under_a).unwrap(), 1, "a subtree's total too");
        diesel::update(folders::table.find(a.as_str())).set(folders::member_count.eq(folders::member_count + 5)).execute(c).unwrap();
        assert_eq!(directory::directory_counts(c).unwrap(), (first.0 + 1, first.1 + 6), "a count changed in plain SQL");
        assert_eq!(directory::members_under(c, &under_a).unwrap(), 6);
        diesel::update(folders::table.find(a.as_str())).set(folders::member_count.eq(folders::member_count - 5)).execute(c).unwrap();
        let b = folder(c, &r, "totals-b").unwrap();
        directory::delete_folder(c, &b, &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!(directory::directory_counts(c).unwrap(), (first.0 + 1, first.1 + 1), "a folder deleted");
    })
    .await;
}

#[actix_web::test]
async fn a_repeated_folder_search_sees_every_folder_added_renamed_or_deleted_even_in_plain_sql() {
    // A search of the tree's folders is kept between views while nothing it reads changed.
    use diesel::prelude::*;
    use rd_contacts::db::schema::folders;
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let found = |c: &mut AnyConnection| -> Vec<String> {
            directory::search_folders(c, "harbour", PageRequest::new(None, None)).unwrap().items.into_iter().map(|s| s.folder.name).collect()
        };
        let a = folder(c, &r, "Harbour-East").unwrap();
        folder(c, &r, "Inland").unwrap();
        assert_eq!(found(c), ["Harbour-East"]);
        assert_eq!(found(c), ["Harbour-East"], "the same search again");
        let b = folder(c, &a, "Old-Harbour").unwrap();
        assert_eq!(found(c), ["Harbour-East", "Old-Harbour"], "a folder added");
        directory::rename_folder(c, &a, &FolderName::parse("Quay").unwrap(), &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!(found(c), ["Old-Harbour"], "a folder renamed");
        diesel::update(folders::table.find(a.as_str())).set(folders::name.eq("Harbour-Quay")).execute(c).unwrap();
        assert_eq!(found(c), ["Harbour-Quay", "Old-Harbour"], "a folder renamed in plain SQL");
        directory::delete_folder(c, &b, &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!(found(c), ["Harbour-Quay"], "a folder deleted");
        let page = directory::search_folders(c, "harbour", PageRequest::with_size(Some(7), 20)).unwrap();
        assert_eq!((page.total, page.items.len(), page.request.number), (1, 1, 1), "the console's page past the last shows the last");
        let page = directory::search_folders(c, "harbour", PageRequest::new(Some(7), None)).unwrap();
        assert_eq!((page.total, page.items.len()), (1, 0), "the API's is empty");
    })
    .await;
}

#[actix_web::test]
async fn folder_and_member_views_kept_between_requests_show_every_change_at_once_even_in_plain_sql() {
    // A folder page, the tree, a member page, ListAccounts and the move list keep what they
    // read from folders and members while the search version stands; every change to what
    // they show moves it on, from the service or in plain SQL, and shows on the next view.
    use diesel::prelude::*;
    use rd_contacts::db::schema::{accounts, folders};
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let ops = folder(c, &r, "ops").unwrap();
        let web = folder(c, &r, "web").unwrap();
        let alice = member(c, &ops, "alice");
        let alice_id = rd_contacts::domain::AccountId::parse(&alice.id).unwrap();
        let page = || PageRequest::with_size(None, 20);
        // The folder's name and members, the tree, the folder's list, the member's place,
        // ListAccounts' folder names, the move list.
        type Views = (String, i64, Vec<String>, Vec<String>, String, Vec<String>, Vec<String>);
        let views = |c: &mut AnyConnection| -> Views {
            let (folder, members, _) = directory::folder_and_ancestors(c, &ops).unwrap();
            let top = directory::list_subfolders(c, &r, None, page()).unwrap();
            let top: Vec<String> = top.items.iter().map(|s| format!("{} ({})", s.folder.name, s.members)).collect();
            let summary = directory::folder_summary(c, &ops).unwrap();
            let listed = directory::list_folder_members(c, &summary, page()).unwrap().items.into_iter().map(|a| a.display_name).collect();
            let (account, path) = directory::get_account_and_path(c, &alice_id).unwrap();
            let place = format!("{} in {}", account.display_name, path.iter().map(|f| f.shown_name().to_owned()).collect::<Vec<_>>().join(" / "));
            let labelled = directory::folders_by_id(c, vec![ops.to_string()]).unwrap().into_iter().map(|f| f.name).collect();
            let choices = directory::move_choices(c, None, "").unwrap().0.into_iter().map(|o| o.label).collect();
            (folder.name, members, top, listed, place, labelled, choices)
        };
        let first = views(c);
        assert_eq!(first.0, "ops");
        assert_eq!((first.1, first.3.as_slice(), first.4.as_str()), (1, ["alice".to_owned()].as_slice(), "alice in Root / ops"));
        assert_eq!(views(c), first, "the same views again");

        diesel::update(folders::table.find(ops.as_str())).set(folders::name.eq("platform")).execute(c).unwrap();
        let renamed = views(c);
        assert_eq!(renamed.0, "platform", "the folder page, after a rename in plain SQL");
        assert!(renamed.2.contains(&"platform (1)".to_owned()), "the tree: {:?}", renamed.2);
        assert_eq!(renamed.4, "alice in Root / platform", "the member page");
        assert_eq!(renamed.5, ["platform"], "ListAccounts' folders");
        assert!(renamed.6.contains(&"platform".to_owned()), "the move list: {:?}", renamed.6);

        diesel::update(accounts::table.find(&alice.id)).set(accounts::display_name.eq("alicia")).execute(c).unwrap();
        let renamed = views(c);
        assert_eq!(
            (renamed.3.as_slice(), renamed.4.as_str()),
            (["alicia".to_owned()].as_slice(), "alicia in Root / platform"),
            "a member renamed in plain SQL"
        );

        member(c, &ops, "bob");
        let grown = views(c);
        assert_eq!((grown.1, grown.3.len()), (2, 2), "a member added: {:?}", grown.3);
        assert!(grown.2.contains(&"platform (2)".to_owned()), "the tree counts it: {:?}", grown.2);

        rd_contacts::membership::move_account(c, &alice_id, &web, &rd_contacts::audit::Actor::cli()).unwrap();
        let moved = views(c);
        assert_eq!((moved.1, moved.3.as_slice(), moved.4.as_str()), (1, ["bob".to_owned()].as_slice(), "alicia in Root / web"), "a member moved");
    })
    .await;
}

#[actix_web::test]
async fn a_page_read_with_the_sessions_version_shows_every_change_committed_before_it_was_asked_for() {
    // A signed-in page reads the search version in its session's statement and keeps
    // values under it: a change committed before the request, by another server or in
    // plain SQL, shows on that very request, and on every page that keeps it.
    use diesel::prelude::*;
    use rd_contacts::db::schema::{accounts, folders};
    let mut app = TestApp::spawn().await;
    app.sign_in().await;
    let (ops, alice) = app
        .with_conn(|c| {
            let r = root(c);
            let ops = folder(c, &r, "ops").unwrap();
            let alice = member(c, &ops, "alice");
            (ops, alice.id)
        })
        .await;
    let folder_page = format!("/folders/{ops}");
    let member_page = format!("/members/{alice}");
    for (round, name) in ["platform", "infra", "sre"].into_iter().enumerate() {
        let before = app.get(&folder_page).await;
        assert_eq!(before.status, 200);
        let (id, new_name, member_name) = (ops.to_string(), name.to_owned(), format!("alice {round}"));
        let alice_id = alice.clone();
        app.with_conn(move |c| {
            diesel::update(folders::table.find(&id)).set(folders::name.eq(&new_name)).execute(c).unwrap();
            diesel::update(accounts::table.find(&alice_id)).set(accounts::display_name.eq(&member_name)).execute(c).unwrap();
        })
        .await;
        let folder_view = app.get(&folder_page).await;
        assert!(folder_view.body.contains(name), "round {round}: the folder page shows the rename to {name}");
        assert!(folder_view.body.contains(&format!("alice {round}")), "round {round}: and the member's new name");
        let member_view = app.get(&member_page).await;
        assert!(member_view.body.contains(&format!("alice {round}")) && member_view.body.contains(name), "round {round}: the member page too");
        let tree = app.get("/directory").await;
        assert!(tree.body.contains(name), "round {round}: the tree too");
    }
}

#[actix_web::test]
async fn folder_paths_kept_between_views_follow_every_rename_or_move_even_in_plain_sql() {
    // A search page shows each member's folder path by name; the paths of the same folders
    // are kept while no folder changed, and a change to any folder on a path shows at once.
    use diesel::prelude::*;
    use rd_contacts::db::schema::folders;
    let app = TestApp::spawn().await;
    app.with_conn(|c| {
        let r = root(c);
        let ops = folder(c, &r, "ops").unwrap();
        let db = folder(c, &ops, "db").unwrap();
        let web = folder(c, &r, "web").unwrap();
        let paths = |c: &mut AnyConnection| -> Vec<String> {
            let names = directory::folder_path_names(c, &[db.as_str(), web.as_str()]).unwrap();
            vec![names[db.as_str()].clone(), names[web.as_str()].clone()]
        };
        assert_eq!(paths(c), ["Root / ops / db", "Root / web"]);
        assert_eq!(paths(c), ["Root / ops / db", "Root / web"], "the same folders again");
        let reversed = directory::folder_path_names(c, &[web.as_str(), db.as_str(), web.as_str()]).unwrap();
        assert_eq!((reversed.len(), reversed[db.as_str()].as_str()), (2, "Root / ops / db"), "in any order, named twice");
        directory::rename_folder(c, &ops, &FolderName::parse("platform").unwrap(), &rd_contacts::audit::Actor::cli()).unwrap();
        assert_eq!(paths(c), ["Root / platform / db", "Root / web"], "a folder above renamed");
        diesel::update(folders::table.find(web.as_str())).set(folders::name.eq("www")).execute(c).unwrap();
        assert_eq!(paths(c), ["Root / platform / db", "Root / www"], "renamed in plain SQL");
        let web_path = directory::get_folder(c, &web).unwrap().path;
        let db_path = directory::get_folder(c, &db).unwrap().path;
        let moved = format!("{web_path}{}/", db.as_str());
        diesel::update(folders::table.find(db.as_str())).set((folders::parent_id.eq(web.as_str()), folders::path.eq(&moved))).execute(c).unwrap();
        assert_ne!(db_path, moved);
        assert_eq!(paths(c), ["Root / www / db", "Root / www"], "moved in plain SQL");
    })
    .await;
}
