--
-- The tutorial's Role enum and its display labels.
--

-- SQLAlchemy's Enum(Role) stores member names, in declaration order.
SELECT enum_range(NULL::user_mgmt.role);
SELECT 'USER'::user_mgmt.role < 'ADMIN'::user_mgmt.role AS user_sorts_first;

-- Role.value for each member.
SELECT r, user_mgmt.role_label(r)
FROM unnest(enum_range(NULL::user_mgmt.role)) AS r;

-- Role.get_values(): the labels in enum order.
SELECT user_mgmt.role_labels();
SELECT array_length(user_mgmt.role_labels(), 1) =
       array_length(enum_range(NULL::user_mgmt.role), 1) AS one_label_per_role;

-- From a label back to the role, for every label.
SELECT l, user_mgmt.role_from_label(l)
FROM unnest(user_mgmt.role_labels()) AS l;

-- Round trip role -> label -> role.
SELECT bool_and(user_mgmt.role_from_label(user_mgmt.role_label(r)) = r) AS round_trip
FROM unnest(enum_range(NULL::user_mgmt.role)) AS r;

-- NULL in, NULL out (STRICT).
SELECT user_mgmt.role_label(NULL) IS NULL AS label_of_null,
       user_mgmt.role_from_label(NULL) IS NULL AS role_of_null;

-- Unknown labels are errors that list the known ones; matching is exact.
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.role_from_label('Admin')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.role_from_label('администратор')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.role_from_label('')$$);
-- Member names are not labels, and a label is not a role.
SELECT * FROM regress.error_of($$SELECT user_mgmt.role_from_label('ADMIN')$$);
SELECT * FROM regress.error_of($$SELECT 'Кассир'::user_mgmt.role$$);
\x off
