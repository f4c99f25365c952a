/*
 * Error numbers returned (negated) by kernel functions and system calls.
 * The values match Linux's so that tools and people read them the same way.
 */
#pragma once

#define EPERM	     1
#define ENOENT	     2
#define ESRCH	     3
#define EINTR	     4
#define E2BIG	     7
#define ENOEXEC	     8
#define EBADF	     9
#define ECHILD	     10
#define EAGAIN	     11
#define ENOMEM	     12
#define EACCES	     13
#define EFAULT	     14
#define EBUSY	     16
#define EEXIST	     17
#define EINVAL	     22
#define EMFILE	     24
#define ENOSPC	     28
#define ERANGE	     34
#define EDEADLK	     35
#define ENAMETOOLONG 36
#define ENOSYS	     38
#define EPROTOTYPE   91
#define ENODEV	     19
#define EOPNOTSUPP   95
#define ETIMEDOUT    110
#define ESHUTDOWN    108
